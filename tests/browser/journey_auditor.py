"""The auditor's journey: `thu` filters the audit trail by the code of the document the archivist's
journey destroyed (every step of its life is there, at +07:00), runs fixity and reads its report
(a second run while one is going is refused), signs a checkpoint of the archive log and reads the
inclusion proof of the document and a consistency proof, each said to verify."""

import re

from harness import expect


def run(h):
    code = h.state.get("archivist_code") or h.state["document"]["code"]
    context = h.context()
    page = h.login(context, "thu")
    expect(page).to_have_url(re.compile(r"/auditor$"))
    expect(page.get_by_role("heading", name="Kiểm tra", exact=True)).to_be_visible()
    h.shot(page, "auditor-view")

    # The trail of one document.
    page.locator("#audit-target").fill(code)
    page.get_by_role("button", name="Lọc").click()
    expect(page).to_have_url(re.compile(r"target="))
    trail = page.locator("table.trail")
    expect(trail).to_contain_text("ingest")
    expect(trail).to_contain_text("hold")
    expect(trail.locator("tbody tr").first).to_contain_text("+07:00")
    if h.state.get("archivist_code"):
        expect(trail).to_contain_text("destroy-request")
        expect(trail).to_contain_text("destroy")
    h.shot(page, "auditor-trail-filtered")
    # Narrowed to one action.
    page.locator("#audit-action").select_option("review")
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("table.trail tbody tr")).to_have_count(1)

    # Fixity: the run goes on in the background; the view shows its progress, then its report.
    page.get_by_role("button", name="Chạy kiểm tra toàn vẹn").click()
    expect(page.locator("#fixity-outcome")).to_have_text(
        "Nguyên vẹn: không phát hiện vấn đề", timeout=120_000
    )
    expect(page.locator("table.fixity-counts")).to_contain_text("Tệp (tính lại mã băm)")
    h.shot(page, "auditor-fixity-report")

    # The archive log: a checkpoint signed now, then the proofs.
    page.get_by_role("button", name="Ký điểm kiểm tra").click()
    expect(page.get_by_role("heading", name="Điểm kiểm tra đã ký")).to_be_visible()
    expect(page.locator("pre.note")).to_contain_text("— ")
    size = int(page.locator("pre.note").inner_text().splitlines()[1])
    h.shot(page, "auditor-checkpoint")
    page.locator("#prove-code").fill(code)
    page.locator("#prove-code").press("Enter")
    expect(page.get_by_role("heading", name="Bằng chứng có mặt")).to_be_visible()
    expect(page.locator("#proof-verdict")).to_contain_text("Hợp lệ")
    expect(page.locator("dl.evidence").first).to_contain_text(code)
    h.shot(page, "auditor-inclusion-proof")
    page.locator("#consistency-size").fill(str(size))
    page.locator("#consistency-size").press("Enter")
    expect(page.get_by_role("heading", name="Bằng chứng nhất quán")).to_be_visible()
    expect(page.locator("#proof-verdict")).to_contain_text("Hợp lệ")
    h.shot(page, "auditor-consistency-proof")
    context.close()
    h.weigh("thu", "/auditor", "auditor-view")
