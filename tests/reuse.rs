//! Reuse (R10) end to end: an owner's documents in force are found and verified, revoked, destroyed
//! and expired ones are not; a reuse is recorded and counted per month; a change the index missed
//! (as after a kill between the archive's commit and the index's) is caught up on the next open; a
//! rebuilt index answers exactly as before.

use crate::util::{Sohoa, corpus, open_archive};

const OWNER: &str = "001099012345";

fn ingest(s: &Sohoa, doc_type: &str, extra: &[&str]) -> String {
    let page = corpus("clean300-002.png");
    let mut args = vec!["ingest", "--owner", OWNER, "--type", doc_type, "--name", "Giấy tờ của công dân"];
    args.extend_from_slice(extra);
    args.push(page.to_str().unwrap());
    s.ok(&args).trim().to_owned()
}

fn codes(listing: &str) -> Vec<&str> {
    listing.lines().map(|l| l.split('\t').next().unwrap()).collect()
}

#[test]
fn reuse_lookup_recording_report_catch_up_and_reindex() {
    let s = Sohoa::new();
    let birth = ingest(&s, "GKS", &["--issued", "1999-05-01"]);
    let card = ingest(&s, "CCCD", &["--issued", "2010-01-01", "--valid-until", "2020-01-01"]);
    let permit = ingest(&s, "GPXD", &["--issued", "2020-03-01"]);
    let decision = ingest(&s, "QD", &["--issued", "2001-01-01", "--dossier", "H56.14-241011-0001"]);

    // Destroy the decision (20-year class, eligible from 2021-01-02), revoke the permit.
    s.add_users(&[("admin", "admin"), ("alice", "archivist"), ("bob", "archivist")]);
    s.ok_as("alice", &["retention", "set", &decision, "20y", "--reason", "danh mục hồ sơ"]);
    s.ok_as("alice", &["dispose", "mark", "--today", "2021-01-02"]);
    s.ok_as("alice", &["dispose", "review", &decision, "--approve"]);
    s.ok_as(
        "alice",
        &["dispose", "request", &decision, "--decision", "07/QĐ-HĐXĐGTTL", "--decision-date", "2026-02-01"],
    );
    s.ok_as("bob", &["dispose", "confirm", &decision]);
    s.ok_as("alice", &["revoke", &permit, "--reason", "cấp sai"]);

    // In force today: the permanent birth certificate only, verified. On a day the card was valid,
    // the card too.
    let today = s.ok(&["reuse", "--owner", OWNER]);
    assert_eq!(codes(&today), [birth.as_str()], "{today}");
    assert!(today.trim_end().ends_with("verified"), "{today}");
    assert_eq!(
        codes(&s.ok(&["reuse", "--owner", OWNER, "--valid-on", "2015-06-01"])),
        [card.as_str(), birth.as_str()],
        "newest issue first"
    );
    assert!(s.ok(&["reuse", "--owner", OWNER, "--type", "CCCD"]).is_empty());
    let json: serde_json::Value = serde_json::from_str(&s.ok(&["--json", "reuse", "--owner", OWNER])).unwrap();
    let first = &json["documents"][0];
    assert_eq!((first["verified"].as_bool(), first["valid_until"].is_null()), (Some(true), true), "{json}");

    // Recording reuse: only what is in force; the rate counts dossiers that reused something.
    s.ok(&["reuse", "--record", &birth, "--dossier", "H56.14-261123-0001"]);
    let refused = s.run(&["reuse", "--record", &card, "--dossier", "H56.14-261123-0001"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("valid until 2020-01-01"));
    let refused = s.run(&["reuse", "--record", &permit, "--dossier", "H56.14-261123-0001"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("revoked"));
    let report = s.ok(&["reuse", "--report"]);
    let month = domain::vietnam_now().format("%Y-%m").to_string();
    assert_eq!(report.trim(), format!("{month}\t2 dossiers\t1 with reuse\t50.0%"), "{report}");
    let trail = open_archive(&s.data()).audit_trail(Some(&birth)).unwrap();
    assert!(
        trail.iter().any(|e| e.action == "reuse" && e.detail == "H56.14-261123-0001" && e.actor.starts_with("cli:"))
    );

    // A change committed to the archive whose index commit never happened (the process died in
    // between) reaches search when the appliance next opens.
    open_archive(&s.data()).revoke(&birth.parse().unwrap(), "thu hồi", "officer").unwrap();
    assert!(s.ok(&["reuse", "--owner", OWNER]).is_empty());

    // A rebuilt index answers as the incremental one did: the same documents in the same order,
    // the same pages and snippets. (Scores differ in their digits: the incremental index still
    // counts replaced entries in its term statistics until segments merge.)
    let queries: [&[&str]; 3] = [
        &["--json", "search", "giấy tờ"],
        &["--json", "search", "cong dich vu"],
        &["--json", "reuse", "--owner", OWNER, "--valid-on", "2015-06-01"],
    ];
    let answers = || -> Vec<serde_json::Value> {
        queries
            .iter()
            .map(|q| {
                // Search answers its hits, reuse its documents, as HTTP does.
                let answer: serde_json::Value = serde_json::from_str(&s.ok(q)).unwrap();
                let mut v = answer.get("hits").or(answer.get("documents")).cloned().unwrap();
                v.as_array_mut().unwrap().iter_mut().for_each(|hit| drop(hit.as_object_mut().unwrap().remove("score")));
                v
            })
            .collect()
    };
    let before = answers();
    assert!(s.ok(&["reindex"]).contains("4 documents"));
    assert_eq!(before, answers());
    assert_eq!(before[0].as_array().unwrap().len(), 3, "{:?}", before[0]);
    assert!(!before[0].to_string().contains(&decision), "a destroyed document's text is not searchable");
}

#[test]
fn search_agrees_with_the_archive_after_ingests_killed_at_random_points() {
    let s = Sohoa::new();
    ingest(&s, "GKS", &[]);
    let page = corpus("clean300-002.png");
    let mut seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64 | 1;
    for round in 0..8 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut child = s
            .command()
            .args([
                "ingest",
                "--owner",
                OWNER,
                "--type",
                "PT",
                "--name",
                &format!("Phiếu {round}"),
                page.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From start-up through OCR to the archive's and the index's commits (about 2 s here).
        std::thread::sleep(std::time::Duration::from_millis(300 + (seed >> 33) % 2500));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // Whatever the archive holds, search finds; nothing else. (Opening the appliance catches up.)
    let listed: Vec<String> = codes(&s.ok(&["reuse", "--owner", OWNER])).into_iter().map(str::to_owned).collect();
    let mut archived: Vec<String> = open_archive(&s.data())
        .documents_of(&OWNER.parse().unwrap())
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    archived.sort();
    assert_eq!(listed_sorted, archived);
    assert_eq!(s.ok(&["search", "cong dich vu", "--limit", "100"]).lines().count(), archived.len());
}
