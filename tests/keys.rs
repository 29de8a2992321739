//! The seal keys: rotation keeps what the old key sealed verifiable, the public key set can be
//! exported for outside verifiers, and no command ever prints private key material.

use crate::util::{Sohoa, corpus};

fn ingest(s: &Sohoa) -> (String, String) {
    let page = corpus("noisy-001.jpg");
    let out = s.run(&["ingest", "--owner", "001099012345", "--type", "GPXD", "--name", "Giấy phép", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    (stdout.trim().to_owned(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn rotation_keeps_old_documents_verifiable_and_no_output_shows_a_private_key() {
    let s = Sohoa::new();
    let (first, mut printed) = ingest(&s);
    let keys = s.data().join("keys");
    let old_id = std::fs::read_to_string(keys.join("current")).unwrap().trim().to_owned();
    let old_secret = std::fs::read(keys.join(format!("seal-{old_id}.key"))).unwrap();

    let new_id = s.ok(&["keys", "rotate"]).trim().to_owned();
    assert_ne!(new_id, old_id);
    assert!(!keys.join(format!("seal-{old_id}.key")).exists(), "the old private key must be gone");
    let new_key = keys.join(format!("seal-{new_id}.key"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777, 0o600);
    let new_secret = std::fs::read(&new_key).unwrap();

    // The old document still verifies by the old public key; a new one is sealed by the new key.
    let (second, stderr) = ingest(&s);
    printed.push_str(&stderr);
    for (code, key) in [(&first, &old_id), (&second, &new_id)] {
        let report = s.ok(&["verify", code]);
        assert!(report.trim_end().ends_with("\nvalid") && report.contains(&format!("by key {key}")), "{code}: {report}");
        printed.push_str(&report);
    }

    let export: serde_json::Value = serde_json::from_str(&s.ok(&["keys", "export"])).unwrap();
    assert_eq!(export["current"], new_id.as_str());
    let ids: Vec<&str> = export["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&old_id.as_str()) && ids.contains(&new_id.as_str()), "{export}");
    printed.push_str(&export.to_string());
    printed.push_str(&s.ok(&["text", &first]));

    // Neither private key appears in anything printed, in hex or as raw bytes.
    for secret in [&old_secret, &new_secret] {
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!printed.to_lowercase().contains(&hex), "a private key was printed");
        assert!(!printed.as_bytes().windows(secret.len()).any(|w| w == secret.as_slice()), "a private key was printed");
    }
    let trail = archive::Archive::open(&s.data().join("archive")).unwrap().audit_trail(None).unwrap();
    assert!(trail.iter().any(|e| e.action == "key-change" && e.detail.contains(&old_id) && e.detail.contains(&new_id)));
    assert!(trail.iter().any(|e| e.action == "key-export"));
}
