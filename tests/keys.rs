//! The seal keys: rotation keeps what the old key sealed verifiable, the public key set can be
//! exported for outside verifiers, and no command ever prints private key material.

use crate::util::{Sohoa, corpus};

fn ingest(s: &Sohoa) -> (String, String) {
    let page = corpus("noisy-001.jpg");
    let out =
        s.run(&["ingest", "--owner", "001099012345", "--type", "GPXD", "--name", "Giấy phép", page.to_str().unwrap()]);
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
        assert!(
            report.trim_end().ends_with("\nvalid") && report.contains(&format!("by key {key}")),
            "{code}: {report}"
        );
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
        let hex = domain::hex(secret);
        assert!(!printed.to_lowercase().contains(&hex), "a private key was printed");
        assert!(!printed.as_bytes().windows(secret.len()).any(|w| w == secret.as_slice()), "a private key was printed");
    }
    let trail = crate::util::open_archive(&s.data()).audit_trail(None).unwrap();
    assert!(trail.iter().any(|e| e.action == "key-change" && e.detail.contains(&old_id) && e.detail.contains(&new_id)));
    assert!(trail.iter().any(|e| e.action == "key-export"));
}

/// One HTTP/1.1 request to the server on `port`; returns the status line and the body.
fn http(port: u16, method: &str, path: &str, token: Option<&str>, body: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.lines().next().unwrap_or_default().to_owned(), body.to_owned())
}

#[test]
fn server_logs_at_trace_level_hold_no_key_material() {
    use crate::signing::{TOKEN_PIN, pki, softhsm, tsa_url};
    let s = Sohoa::new();
    // The agency key on a SoftHSM2 token, its PIN in the environment, a TSA: every secret path.
    let config = s.dir.path().join("sohoa.toml");
    std::fs::write(
        &config,
        format!(
            "[signature]\npkcs11_module = {:?}\ntoken = \"sohoa-test\"\nkey_label = \"agency-ec\"\nchain = {:?}\ntsa_url = {:?}\ntrust_anchors = [{:?}]\n",
            softhsm(),
            pki().join("ec.crt"),
            tsa_url(),
            pki().join("root.crt")
        ),
    )
    .unwrap();
    let sohoa = |args: &[&str]| {
        let mut command = s.command();
        command.arg("--config").arg(&config).args(args).env("SOHOA_TOKEN_PIN", TOKEN_PIN).env("RUST_LOG", "trace");
        command
    };
    let page = corpus("noisy-001.jpg");
    let out =
        sohoa(&["ingest", "--owner", "001099012345", "--type", "GPXD", "--name", "Giấy phép", page.to_str().unwrap()])
            .output()
            .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut logs = String::from_utf8_lossy(&out.stderr).into_owned();

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = sohoa(&["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let password_file = s.data().join("initial-admin-password");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let password = std::fs::read_to_string(&password_file).unwrap().trim().to_owned();
    let (status, _) = http(port, "POST", "/api/login", None, r#"{"username":"admin","password":"wrong"}"#);
    assert!(status.contains("401"), "{status}");
    let (status, body) =
        http(port, "POST", "/api/login", None, &format!(r#"{{"username":"admin","password":"{password}"}}"#));
    assert!(status.contains("200"), "{status} {body}");
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"].as_str().unwrap().to_owned();
    for path in
        ["/api/keys".to_owned(), format!("/api/verify/{code}"), format!("/api/documents/{code}"), "/verify".to_owned()]
    {
        let (status, body) = http(port, "GET", &path, Some(&token), "");
        assert!(status.contains("200"), "{path}: {status} {body}");
        if path.starts_with("/api/verify/") {
            assert!(body.contains("PDF signature: timestamp") && body.contains(r#""valid":true"#), "{body}");
        }
    }
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    let output = server.wait_with_output().unwrap();
    logs.push_str(&String::from_utf8_lossy(&output.stdout));
    logs.push_str(&String::from_utf8_lossy(&output.stderr));
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "the server logged at trace level: {logs}");

    // The seal key (raw, hex, base64), the agency key (PEM body, hex of its DER), the PIN and the
    // admin password appear nowhere.
    let keys = s.data().join("keys");
    let seal_id = std::fs::read_to_string(keys.join("current")).unwrap().trim().to_owned();
    let seal = std::fs::read(keys.join(format!("seal-{seal_id}.key"))).unwrap();
    let agency_pem = std::fs::read_to_string(pki().join("ec.key")).unwrap();
    let agency_body: String = agency_pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let agency_der = base64_decode(&agency_body);
    let lower = logs.to_lowercase();
    let mut secrets = vec![
        ("seal key hex", domain::hex(&seal)),
        ("agency key hex", domain::hex(&agency_der)),
        ("PIN", TOKEN_PIN.to_owned()),
        ("admin password", password.to_lowercase()),
    ];
    secrets.push(("seal key base64", base64_encode(&seal).to_lowercase()));
    for line in agency_pem.lines().filter(|l| !l.starts_with("-----")) {
        secrets.push(("agency key PEM line", line.to_lowercase()));
    }
    for (what, secret) in secrets {
        assert!(!lower.contains(&secret), "the {what} appears in the logs");
    }
    assert!(!logs.as_bytes().windows(seal.len()).any(|w| w == seal.as_slice()), "the raw seal key appears in the logs");
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    bytes
        .chunks(3)
        .flat_map(|c| {
            let n = c.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            (0..=c.len()).map(move |i| BASE64[(n >> (18 - 6 * i) & 63) as usize] as char)
        })
        .collect()
}

fn base64_decode(text: &str) -> Vec<u8> {
    let values: Vec<u32> = text.bytes().filter_map(|b| BASE64.iter().position(|&c| c == b).map(|p| p as u32)).collect();
    values
        .chunks(4)
        .flat_map(|c| {
            let n = c.iter().enumerate().fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
            (0..c.len() - 1).map(move |i| (n >> (16 - 8 * i)) as u8)
        })
        .collect()
}
