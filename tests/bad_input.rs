//! Bad input gives a clear one-line error and a non-zero exit, and leaves the archive as it was.

use crate::util::{Sohoa, corpus};

fn ingest_args<'a>(owner: &'a str, issued: &'a str, file: &'a str) -> Vec<&'a str> {
    vec!["ingest", "--owner", owner, "--type", "GPXD", "--name", "Giấy phép", "--issued", issued, file]
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let s = Sohoa::new();
    let dir = s.dir.path();
    let good = corpus("clean300-001.png");
    let good = good.to_str().unwrap();
    let text_file = dir.join("notes.png");
    std::fs::write(&text_file, "đây không phải là ảnh").unwrap();
    let empty = dir.join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let truncated = dir.join("truncated.png");
    let png = std::fs::read(good).unwrap();
    std::fs::write(&truncated, &png[..png.len() / 2]).unwrap();
    let missing = dir.join("missing.png");
    let copy = dir.join("copy.pdf");

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (ingest_args("001099012345", "2024-03-01", text_file.to_str().unwrap()), "not a PNG, JPEG, TIFF or PDF"),
        (ingest_args("001099012345", "2024-03-01", empty.to_str().unwrap()), "empty"),
        (ingest_args("001099012345", "2024-03-01", truncated.to_str().unwrap()), "damaged PNG"),
        // A damaged page in the middle of a document is named by its number, and nothing of the
        // document is kept.
        (
            vec![
                "ingest",
                "--owner",
                "001099012345",
                "--type",
                "GPXD",
                "--name",
                "x",
                good,
                truncated.to_str().unwrap(),
                good,
            ],
            "page 2: ",
        ),
        (ingest_args("001099012345", "2024-03-01", missing.to_str().unwrap()), "cannot read"),
        (ingest_args("00109901234", "2024-03-01", good), "11 digits"),
        (ingest_args("001099012345", "2024-02-30", good), "not a real calendar date"),
        (ingest_args("001099012345", "2099-01-01", good), "after the capture date"),
        (vec!["ingest", "--owner", "001099012345", "--type", "GP.XD", "--name", "x", good], "document type code"),
        (vec!["get", "not-a-code", "-o", copy.to_str().unwrap()], "invalid document code"),
        (vec!["verify", "001099012345.GPXD.07"], "no archived document"),
    ];
    for (args, expected) in &cases {
        let out = s.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: not one line: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: expected {expected:?} in {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed {:?}", String::from_utf8_lossy(&out.stdout));
    }
    assert!(!copy.exists(), "a copy was written for a code that is not one");
    if s.data().join("archive").exists() {
        let archive = crate::util::open_archive(&s.data());
        assert_eq!(archive.document_count().unwrap(), 0);
        assert_eq!(archive.last_event(), 0);
        assert!(archive.audit_trail(None).unwrap().iter().all(|e| e.action != "ingest"));
    }
    // No document number was consumed by the failures: the first good ingest gets counter 01.
    let out = s.ok(&ingest_args("001099012345", "2024-03-01", good));
    assert_eq!(out.trim(), "001099012345.GPXD.01");
}
