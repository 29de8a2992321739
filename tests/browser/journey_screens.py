"""Every screen, as each role first opens it: what it transfers on a first load in a fresh browser
(at most 300 KB, page images excepted) and axe-core's verdict (no serious or critical violation).
The screens are found the way a person finds them, from the navigation of each role, plus the pages
that are reached from them (a document, its receipt) and the pages open to anyone."""


from harness import expect

# One person per role on the test server.
PEOPLE = ["lan", "minh", "hoa", "thu", "admin"]
LIMIT_BYTES = 300 * 1024


def run(h):
    screens = {}  # path -> (user, name)
    for user in PEOPLE:
        context = h.context()
        page = h.login(context, user)
        for link in page.locator("header nav a").all():
            path = link.get_attribute("href")
            screens.setdefault(path, (user, path.strip("/") or "home"))
        context.close()
    document = h.state.get("document")
    if document:
        screens.setdefault(f"/documents/{document['code']}", ("minh", "document"))
        screens.setdefault(f"/station/receipt/{document['code']}", ("lan", "receipt"))
    screens.setdefault("/login", (None, "login"))
    screens.setdefault("/verify", (None, "verify"))
    heavy = []
    for path, (user, name) in sorted(screens.items()):
        weight = h.weigh(user, path, f"first-load {name}")
        print(f"screen {path} ({user or 'anonymous'}): {weight} bytes on first load", flush=True)
        if weight > LIMIT_BYTES:
            heavy.append(f"{path}: {weight} bytes")
        context = h.context()
        page = h.login(context, user, path) if user else context.new_page()
        if not user:
            page.goto(f"{h.url}{path}")
        expect(page.locator("main")).to_be_visible()
        h.check_accessibility(page, f"screen {name}")
        context.close()
    assert not heavy, f"screens over {LIMIT_BYTES} bytes on first load: {heavy}"
    assert len(screens) >= 9, f"only {len(screens)} screens found: {sorted(screens)}"
