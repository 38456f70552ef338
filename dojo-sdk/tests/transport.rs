//! How requests go out (retries, the request hook) and the hand-written multipart uploads, against
//! wiremock doubles.

use dojo_sdk::{
    call, DojoClient, EndpointMetaImport, ErrorKind, FileOwner, RequestEvent, RetryPolicy,
    ScanFile, ScanUpload, UploadFile,
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "transport-test-token-0123456789";

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_secs(2),
    }
}

fn client(uri: &str, events: &Arc<Mutex<Vec<RequestEvent>>>) -> DojoClient {
    let seen = events.clone();
    DojoClient::builder(uri)
        .token(TOKEN)
        .allow_insecure_http(true)
        .retry_policy(quick_retries())
        .on_request(move |e| seen.lock().unwrap().push(e.clone()))
        .build()
        .unwrap()
}

/// A recorded DefectDojo answer.
fn recorded(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/dojo-sdk/tests/fixtures/recorded/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let exchange: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    exchange["response"].clone()
}

fn profile() -> serde_json::Value {
    recorded("user_profile")
}

async fn mount_flaky_get(server: &MockServer, first: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/api/v2/user_profile/"))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/user_profile/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(profile()))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_get_is_retried_after_a_transient_answer_and_the_hook_sees_each_attempt() {
    for status in [502, 503, 504, 429] {
        let server = MockServer::start().await;
        mount_flaky_get(&server, ResponseTemplate::new(status)).await;
        let events = Arc::new(Mutex::new(Vec::new()));
        let dojo = client(&server.uri(), &events);
        let answer = call(dojo.read().user_profile_retrieve().send()).await;
        assert!(answer.is_ok(), "{status}: {answer:?}");
        assert_eq!(server.received_requests().await.unwrap().len(), 2);
        let events = events.lock().unwrap();
        let seen: Vec<_> = events
            .iter()
            .map(|e| (e.status, e.attempt, e.will_retry))
            .collect();
        assert_eq!(
            seen,
            vec![(Some(status), 0, true), (Some(200), 1, false)],
            "{status}"
        );
        assert_eq!(events[0].path, "/api/v2/user_profile/");
        assert_eq!(events[0].method, reqwest::Method::GET);
        assert!(
            !format!("{events:?}").contains(TOKEN),
            "the hook never sees the token"
        );
    }
}

#[tokio::test]
async fn a_post_is_never_sent_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&server.uri(), &events);
    let err = dojo
        .import_scan(
            &ScanUpload::new("ZAP Scan"),
            &ScanFile::from_bytes("z.xml", &b"<x/>"[..]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(
        events.lock().unwrap().len(),
        1,
        "the hook sees hand-written calls too"
    );
}

#[tokio::test]
async fn retry_after_is_honoured_up_to_the_policy_bound() {
    // A short Retry-After is waited for.
    let server = MockServer::start().await;
    mount_flaky_get(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
    )
    .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&server.uri(), &events);
    let started = Instant::now();
    call(dojo.read().user_profile_retrieve().send())
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));

    // One longer than the policy's longest wait is not: the caller gets the answer and the wait.
    let server = MockServer::start().await;
    mount_flaky_get(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "3600"),
    )
    .await;
    let dojo = client(&server.uri(), &events);
    let started = Instant::now();
    let err = call(dojo.read().user_profile_retrieve().send())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after_secs(), Some(3600));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn retries_are_bounded_and_can_be_turned_off() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&server.uri(), &events);
    let err = call(dojo.read().user_profile_retrieve().send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "1 + 2 retries"
    );

    let once = DojoClient::builder(server.uri())
        .token(TOKEN)
        .allow_insecure_http(true)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let _ = call(once.read().user_profile_retrieve().send()).await;
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&format!("http://127.0.0.1:{port}"), &events);
    let err = call(dojo.read().user_profile_retrieve().send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.status.is_none()));
}

/// The multipart body of a request as text (the test files are text).
fn body_text(request: &Request) -> String {
    String::from_utf8_lossy(&request.body).into_owned()
}

#[tokio::test]
async fn files_are_attached_to_findings_engagements_and_tests() {
    let server = MockServer::start().await;
    let file = serde_json::json!({"id": 7, "title": "evidence", "file": "http://x/evidence.txt"});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(file))
        .mount(&server)
        .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&server.uri(), &events);
    let evidence = UploadFile::from_bytes("evidence.txt", &b"proof of concept"[..]);
    for (owner, expected) in [
        (FileOwner::Finding(1), "/api/v2/findings/1/files/"),
        (FileOwner::Engagement(2), "/api/v2/engagements/2/files/"),
        (FileOwner::Test(3), "/api/v2/tests/3/files/"),
    ] {
        let made = dojo
            .upload_file(owner, "evidence", &evidence)
            .await
            .unwrap();
        assert_eq!(made.id, Some(7));
        let requests = server.received_requests().await.unwrap();
        let request = requests.last().unwrap();
        assert_eq!(request.url.path(), expected);
        let body = body_text(request);
        assert!(
            body.contains("name=\"title\"\r\n\r\nevidence\r\n"),
            "{body}"
        );
        assert!(body.contains("filename=\"evidence.txt\""), "{body}");
        assert!(body.contains("proof of concept"), "{body}");
    }
    let blank = dojo.upload_file(FileOwner::Test(3), " ", &evidence).await;
    assert_eq!(blank.unwrap_err().kind(), ErrorKind::Client);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        3,
        "a blank title is refused here"
    );
}

#[tokio::test]
async fn languages_and_endpoint_metadata_are_imported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/import-languages/"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"product": 4, "file": "http://x/cloc.json"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/endpoint_meta_import/"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            serde_json::json!({"product_name": "web", "product_id": 4, "file": "http://x/e.csv"}),
        ))
        .mount(&server)
        .await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&server.uri(), &events);
    dojo.import_languages(4, &UploadFile::from_bytes("cloc.json", &b"{}"[..]))
        .await
        .unwrap();
    let import = EndpointMetaImport {
        product_name: Some("web".into()),
        create_endpoints: Some(true),
        ..Default::default()
    };
    dojo.import_endpoint_meta(
        &import,
        &UploadFile::from_bytes("e.csv", &b"hostname\nh\n"[..]),
    )
    .await
    .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(body_text(&requests[0]).contains("name=\"product\"\r\n\r\n4\r\n"));
    let meta = body_text(&requests[1]);
    assert!(
        meta.contains("name=\"product_name\"\r\n\r\nweb\r\n"),
        "{meta}"
    );
    assert!(
        meta.contains("name=\"create_endpoints\"\r\n\r\ntrue\r\n"),
        "{meta}"
    );
    let neither = dojo
        .import_endpoint_meta(
            &EndpointMetaImport::default(),
            &UploadFile::from_bytes("e.csv", &b"h"[..]),
        )
        .await;
    assert_eq!(neither.unwrap_err().kind(), ErrorKind::Client);
}

#[tokio::test]
async fn a_report_on_disk_is_streamed_whole_and_never_past_its_size() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v2/import-scan/"))
        .respond_with(ResponseTemplate::new(201).set_body_json(recorded("import_scan_engagement")))
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("dojo-sdk-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("big.xml");
    // 3 MiB and a bit, in lines that say where they are, so a lost or repeated chunk shows.
    let content: String = (0..100_000)
        .map(|i| format!("<line n=\"{i:09}\"/>\n"))
        .collect();
    std::fs::write(&report, &content).unwrap();
    let file = ScanFile::from_path(&report).await.unwrap();
    assert_eq!(file.len(), content.len() as u64);
    assert_eq!(file.name(), "big.xml");
    // Growing the file after it was opened changes nothing: the declared length is what is sent.
    std::fs::write(&report, format!("{content}<extra/>")).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let dojo = client(&server.uri(), &events);
    let answer = dojo
        .import_scan(&ScanUpload::new("ZAP Scan"), &file)
        .await
        .unwrap();
    assert_eq!(
        answer.test,
        recorded("import_scan_engagement")["test"].as_i64()
    );
    let body = body_text(&server.received_requests().await.unwrap()[0]);
    assert!(body.contains(&content), "the whole report, in order");
    assert!(!body.contains("<extra/>"));
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        ScanFile::from_path(&dir).await.is_err(),
        "a missing path is refused"
    );
}
