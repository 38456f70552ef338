//! The SDK against wiremock doubles that answer with exchanges recorded on a real DefectDojo 2.50.4.
//! Each test asserts what was sent as well as what was decoded.

use dojo_sdk::paging::{self, PageRequest};
use dojo_sdk::{call, types, CloseReason, DojoClient, DojoError, ErrorKind, ScanFile, ScanUpload};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

mod dispatch {
    include!(concat!(env!("OUT_DIR"), "/get_dispatch.rs"));
}

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/dojo-sdk/tests/fixtures/recorded"
);

/// One recorded exchange.
struct Exchange {
    method: String,
    path: String,
    status: u16,
    request_json: Value,
    request_fields: Value,
    response: Value,
}

fn exchange(name: &str) -> Exchange {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}.json")).expect(name);
    let v: Value = serde_json::from_str(&text).unwrap();
    Exchange {
        method: v["method"].as_str().unwrap().to_string(),
        path: v["path"].as_str().unwrap().to_string(),
        status: v["status"].as_u64().unwrap() as u16,
        request_json: v["request_json"].clone(),
        request_fields: v["request_fields"].clone(),
        response: v["response"].clone(),
    }
}

impl Exchange {
    fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap()
    }
    fn reply(&self) -> ResponseTemplate {
        let t = ResponseTemplate::new(self.status);
        if self.response.is_null() {
            t
        } else {
            t.set_body_json(&self.response)
        }
    }
    /// Serves this exchange for its method and path.
    async fn mount(&self, server: &MockServer) {
        Mock::given(method(self.method.as_str()))
            .and(path(self.path_only()))
            .respond_with(self.reply())
            .mount(server)
            .await;
    }
    /// Serves this exchange only if the request body equals the recorded one.
    async fn mount_expecting_body(&self, server: &MockServer) {
        Mock::given(method(self.method.as_str()))
            .and(path(self.path_only()))
            .and(body_json(&self.request_json))
            .respond_with(self.reply())
            .expect(1)
            .mount(server)
            .await;
    }
}

fn client(server: &MockServer) -> DojoClient {
    DojoClient::builder(server.uri())
        .token("test-token")
        .allow_insecure_http(true)
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_swept_get_decodes_through_its_generated_operation() {
    let dir = format!("{FIXTURES}/sweep");
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/index.json")).unwrap())
            .unwrap();
    assert!(index.len() >= 80, "sweep index shrank: {}", index.len());
    let mut failures = Vec::new();
    let mut decoded = 0;
    // The sweep was recorded on 2.50.4; operations the pinned spec dropped (the role endpoints,
    // questionnaires, credentials) have no generated call and are counted apart.
    let mut not_in_pinned_spec = Vec::new();
    for entry in &index {
        let op = entry["operation"].as_str().unwrap();
        if !dispatch::GET_OPERATIONS.iter().any(|(name, _)| *name == op) {
            not_in_pinned_spec.push(op);
            continue;
        }
        let recorded_path = entry["path"].as_str().unwrap();
        let body: Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/{op}.json")).unwrap())
                .unwrap();
        let body = body.get("response").cloned().unwrap_or(body);
        let server = MockServer::start().await;
        let path_only = recorded_path.split('?').next().unwrap();
        Mock::given(method("GET"))
            .and(path(path_only))
            .respond_with(ResponseTemplate::new(200).set_body_json(&body))
            .expect(1)
            .mount(&server)
            .await;
        let id = path_only
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok());
        let dojo = client(&server);
        match dispatch::call_get(dojo.read(), op, id, None).await {
            None => failures.push(format!("{op}: no such generated operation")),
            Some(Err(e)) => failures.push(format!("{op}: {e}")),
            Some(Ok(())) => decoded += 1,
        }
    }
    let exercised = index.len() - not_in_pinned_spec.len();
    assert!(
        failures.is_empty(),
        "{} of {exercised} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        exercised >= 60,
        "only {exercised} recorded GETs are in the pinned spec"
    );
    eprintln!(
        "{decoded} of {exercised} recorded GET responses decode; {} not in the pinned spec {}: {}",
        not_in_pinned_spec.len(),
        dojo_sdk::SPEC_VERSION,
        not_in_pinned_spec.join(", ")
    );
}

#[tokio::test]
async fn recorded_gets_decode() {
    let cases: &[(&str, &str, Option<i64>)] = &[
        ("finding_get", "findings_retrieve", Some(1)),
        ("finding_get_after_close", "findings_retrieve", Some(555)),
        ("findings_list", "findings_list", None),
        ("findings_list_filtered", "findings_list", None),
        ("findings_list_prefetch", "findings_list", None),
        ("finding_notes_list", "findings_notes_retrieve", Some(1)),
        (
            "finding_notes_list_after",
            "findings_notes_retrieve",
            Some(555),
        ),
        ("finding_tags_get", "findings_tags_retrieve", Some(1)),
        ("product_get", "products_retrieve", Some(1)),
        ("products_list", "products_list", None),
        ("reader_products_list", "products_list", None),
        ("product_types_list", "product_types_list", None),
        ("product_types_list_limit", "product_types_list", None),
        ("engagement_get", "engagements_retrieve", Some(1)),
        ("engagements_list", "engagements_list", None),
        ("test_get", "tests_retrieve", Some(1)),
        ("tests_list", "tests_list", None),
        ("test_types_list", "test_types_list", None),
        ("user_profile", "user_profile_retrieve", None),
    ];
    for (fixture, op, id) in cases {
        let server = MockServer::start().await;
        let ex = exchange(fixture);
        ex.mount(&server).await;
        let result = dispatch::call_get(client(&server).read(), op, *id, None).await;
        match result {
            Some(Ok(())) => {}
            other => panic!("{fixture} via {op}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn prefetch_is_decoded() {
    let server = MockServer::start().await;
    exchange("findings_list_prefetch").mount(&server).await;
    let dojo = client(&server);
    let page = call(
        dojo.read()
            .findings_list()
            .limit(2)
            .prefetch(vec![types::FindingsListPrefetchItem::Test])
            .send(),
    )
    .await
    .unwrap();
    let prefetch = page.prefetch.expect("prefetch present");
    assert!(!prefetch.test.is_empty(), "prefetched tests decoded");
    let sent = &server.received_requests().await.unwrap()[0];
    assert!(sent.url.query().unwrap().contains("prefetch=test"));
}

#[tokio::test]
async fn token_is_sent_and_reads_and_writes_use_their_own_keys() {
    let server = MockServer::start().await;
    let get = exchange("finding_get");
    Mock::given(method("GET"))
        .and(path(get.path_only()))
        .and(header("authorization", "Token reader-key"))
        .respond_with(get.reply())
        .expect(1)
        .mount(&server)
        .await;
    let close = exchange("finding_close_mitigated");
    Mock::given(method("POST"))
        .and(path(close.path_only()))
        .and(header("authorization", "Token writer-key"))
        .respond_with(close.reply())
        .expect(1)
        .mount(&server)
        .await;
    let dojo = DojoClient::builder(server.uri())
        .read_token("reader-key")
        .write_token("writer-key")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    call(dojo.read().findings_retrieve().id(1).send())
        .await
        .unwrap();
    dojo.close_finding(555, CloseReason::Mitigated)
        .await
        .unwrap();
}

#[tokio::test]
async fn close_always_sends_is_mitigated() {
    // DefectDojo answers 500 to a close without is_mitigated; the double does the same.
    for (fixture, reason) in [
        ("finding_close_mitigated", CloseReason::Mitigated),
        ("finding_close_false_positive", CloseReason::FalsePositive),
    ] {
        let server = MockServer::start().await;
        let ok = exchange(fixture);
        let broken = exchange("finding_close_empty_body_500");
        Mock::given(method("POST"))
            .and(path(ok.path_only()))
            .and(body_partial_json(
                json!({"is_mitigated": reason == CloseReason::Mitigated}),
            ))
            .respond_with(ok.reply())
            .with_priority(1)
            .mount(&server)
            .await;
        broken.mount(&server).await;
        let dojo = client(&server);
        dojo.close_finding(555, reason).await.expect(fixture);
        let sent: Value = server.received_requests().await.unwrap()[0]
            .body_json()
            .unwrap();
        for (k, v) in ok.request_json.as_object().unwrap() {
            assert_eq!(sent.get(k), Some(v), "{fixture}: field {k}");
        }
    }
}

#[tokio::test]
async fn close_without_is_mitigated_maps_the_500() {
    let server = MockServer::start().await;
    exchange("finding_close_empty_body_500")
        .mount(&server)
        .await;
    let dojo = client(&server);
    let err = call(
        dojo.write()
            .findings_close_create()
            .id(555)
            .body(types::builder::FindingCloseRequest::default())
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(
        !err.to_string().contains("Pro comes with support"),
        "advert dropped: {err}"
    );
}

#[tokio::test]
async fn tags_add_accepts_200_and_sends_the_list() {
    let server = MockServer::start().await;
    let ex = exchange("finding_tags_add");
    ex.mount_expecting_body(&server).await;
    let tags = client(&server)
        .add_finding_tags(555, &["pci".into(), "sqli".into()])
        .await
        .unwrap();
    assert_eq!(tags, vec!["pci", "sqli"]);
}

#[tokio::test]
async fn tags_remove_uses_patch_and_maps_absent_tag() {
    let server = MockServer::start().await;
    exchange("finding_tags_remove_post_405")
        .mount(&server)
        .await;
    let ex = exchange("finding_tags_remove");
    ex.mount_expecting_body(&server).await;
    client(&server)
        .remove_finding_tags(555, &["pci".into()])
        .await
        .unwrap();

    let server = MockServer::start().await;
    exchange("finding_tags_remove_absent").mount(&server).await;
    let err = client(&server)
        .remove_finding_tags(555, &["nope".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("not a valid tag"), "{err}");
}

#[tokio::test]
async fn empty_tag_is_refused_before_sending() {
    let server = MockServer::start().await;
    let err = client(&server)
        .add_finding_tags(1, &["".into()])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Client);
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn created_note_without_id_decodes() {
    let server = MockServer::start().await;
    exchange("finding_note_create")
        .mount_expecting_body(&server)
        .await;
    let note = client(&server)
        .add_finding_note(555, "Confirmed by manual test", false)
        .await
        .unwrap();
    assert_eq!(note.id, None);
    assert_eq!(note.entry, "Confirmed by manual test");
}

/// The spec's `default` for `schema.property`, from the pinned spec.
fn spec_default(schema: &str, property: &str) -> Option<Value> {
    static SPEC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let spec = SPEC.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi");
        let file = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "json"))
            .unwrap();
        serde_json::from_str(&std::fs::read_to_string(file.path()).unwrap()).unwrap()
    });
    spec.pointer(&format!(
        "/components/schemas/{schema}/properties/{property}/default"
    ))
    .cloned()
}

/// Sends a recorded JSON write through its generated operation and checks the answer and the body:
/// every recorded field is sent as recorded, and any other field the generated type adds carries the
/// spec's default value for `schema` (so DefectDojo sees the same request).
async fn replay_write<T, F, Fut>(fixture: &str, schema: &str, send: F) -> T
where
    F: FnOnce(DojoClient, Value) -> Fut,
    Fut: std::future::Future<Output = Result<T, DojoError>>,
{
    let server = MockServer::start().await;
    let ex = exchange(fixture);
    Mock::given(method(ex.method.as_str()))
        .and(path(ex.path_only()))
        .and(body_partial_json(&ex.request_json))
        .respond_with(ex.reply())
        .expect(1)
        .mount(&server)
        .await;
    let result = send(client(&server), ex.request_json.clone()).await;
    server.verify().await;
    let sent: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    for (key, value) in sent.as_object().unwrap() {
        if ex.request_json.get(key).is_none() {
            assert_eq!(
                Some(value.clone()),
                spec_default(schema, key),
                "{fixture}: extra field {key}"
            );
        }
    }
    result.unwrap_or_else(|e| panic!("{fixture}: {e}"))
}

/// Replays a recorded write through generated operation `$op` with the recorded body decoded into
/// `types::$schema`, the schema whose spec defaults any extra sent field must carry.
macro_rules! replay {
    ($fixture:literal, $schema:ident, |$c:ident| $($op:tt)*) => {
        replay_write($fixture, stringify!($schema), |$c, body| async move {
            let body: types::$schema =
                serde_json::from_value(body).expect("recorded request fits the generated type");
            call($($op)*.body(body).send()).await
        })
        .await
    };
}

#[tokio::test]
async fn recorded_writes_send_the_recorded_body() {
    let p: types::Product = replay!("product_create", ProductRequest, |c| c
        .write()
        .products_create());
    assert!(p.id.is_some());
    replay!("product_type_create", ProductTypeRequest, |c| c
        .write()
        .product_types_create());
    let e: types::Engagement = replay!("engagement_create", EngagementRequest, |c| c
        .write()
        .engagements_create());
    assert!(e.id.is_some());
    replay!("test_create", TestCreateRequest, |c| c
        .write()
        .tests_create());
    replay!("finding_create", FindingCreateRequest, |c| c
        .write()
        .findings_create());
    replay!("finding_patch", PatchedFindingRequest, |c| c
        .write()
        .findings_partial_update()
        .id(555));
    // Reopening must send `"mitigated": null` exactly as recorded.
    let server = MockServer::start().await;
    exchange("finding_reopen_patch")
        .mount_expecting_body(&server)
        .await;
    let reopened = client(&server).reopen_finding(555).await.unwrap();
    assert_eq!(reopened.active, Some(true));
}

#[tokio::test]
async fn error_bodies_map_to_kinds() {
    let cases: &[(&str, ErrorKind, &str)] = &[
        (
            "finding_get_403_badtoken",
            ErrorKind::Unauthenticated,
            "Invalid token",
        ),
        ("finding_get_404", ErrorKind::NotFound, "No Finding matches"),
        (
            "reader_finding_get_404",
            ErrorKind::NotFound,
            "No Finding matches",
        ),
    ];
    for (fixture, kind, text) in cases {
        let server = MockServer::start().await;
        let ex = exchange(fixture);
        ex.mount(&server).await;
        let id: i64 = ex
            .path_only()
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let err = call(client(&server).read().findings_retrieve().id(id).send())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), *kind, "{fixture}");
        assert!(err.to_string().contains(text), "{fixture}: {err}");
    }

    let server = MockServer::start().await;
    exchange("reader_finding_patch_403").mount(&server).await;
    let body = types::builder::PatchedFindingRequest::default().severity(Some(
        "Low"
            .parse::<types::PatchedFindingRequestSeverity>()
            .unwrap(),
    ));
    let err = call(
        client(&server)
            .write()
            .findings_partial_update()
            .id(43)
            .body(body)
            .send(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);

    let server = MockServer::start().await;
    exchange("engagement_create_bad_date").mount(&server).await;
    let b = exchange("engagement_create_bad_date").request_json;
    // The recorded body has an impossible date, so send it raw through the write client.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/engagements/", server.uri()))
        .json(&b)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let err = DojoError::from_status_and_body(status, &response.bytes().await.unwrap());
    match &err {
        DojoError::Api { body, .. } => assert_eq!(body.field_names(), vec!["target_start"]),
        other => panic!("{other:?}"),
    }
    assert!(
        !err.to_string().contains("ErrorDetail"),
        "python repr dropped: {err}"
    );
}

#[tokio::test]
async fn decode_errors_name_the_field() {
    let server = MockServer::start().await;
    let mut body = exchange("finding_get").response;
    body["title"] = json!(42);
    Mock::given(method("GET"))
        .and(path("/api/v2/findings/1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let err = call(client(&server).read().findings_retrieve().id(1).send())
        .await
        .unwrap_err();
    match err {
        DojoError::Decode { path, .. } => assert_eq!(path, "title"),
        other => panic!("{other:?}"),
    }
}

/// Answers are decoded, not validated (`answers_without_string_limits`): a title past the spec's
/// 511 characters still decodes, while a request with one is refused before anything is sent.
#[tokio::test]
async fn answers_decode_past_string_limits_and_requests_keep_them() {
    let server = MockServer::start().await;
    let long_title = "t".repeat(600);
    let mut body = exchange("finding_get").response;
    body["title"] = json!(long_title);
    Mock::given(method("GET"))
        .and(path("/api/v2/findings/1/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let dojo = client(&server);
    let finding = call(dojo.read().findings_retrieve().id(1).send())
        .await
        .unwrap();
    assert_eq!(finding.title, long_title);

    let recorded: types::FindingCreateRequest =
        serde_json::from_value(exchange("finding_create").request_json).unwrap();
    let request = types::builder::FindingCreateRequest::from(recorded).title(long_title.as_str());
    let err = call(dojo.write().findings_create().body(request).send())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("title"), "{err}");
    let sent = server.received_requests().await.unwrap();
    assert!(
        sent.iter().all(|r| r.method.as_str() == "GET"),
        "a POST was sent"
    );
}

/// Serves pages of `total` products `limit` at a time, with `next` links on DefectDojo's internal host.
struct Pages {
    total: usize,
    template: Value,
}

impl Respond for Pages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = |k: &str| {
            request
                .url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let limit = q("limit").unwrap_or(20);
        let offset = q("offset").unwrap_or(0);
        let end = (offset + limit).min(self.total);
        let results: Vec<Value> = (offset..end)
            .map(|i| {
                let mut p = self.template.clone();
                p["id"] = json!(i + 1);
                p
            })
            .collect();
        let next = (end < self.total)
            .then(|| format!("http://127.0.0.1:8080/api/v2/products/?limit={limit}&offset={end}"));
        ResponseTemplate::new(200).set_body_json(json!({
            "count": self.total, "next": next, "previous": null, "results": results, "prefetch": {}
        }))
    }
}

#[tokio::test]
async fn paging_follows_next_and_stops_at_the_cap() {
    let template = exchange("products_list").response["results"][0].clone();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/products/"))
        .respond_with(Pages {
            total: 23,
            template,
        })
        .mount(&server)
        .await;
    let dojo = client(&server);
    let fetch = |p: PageRequest| {
        let dojo = dojo.clone();
        async move {
            call(
                dojo.read()
                    .products_list()
                    .limit(p.limit)
                    .offset(p.offset)
                    .send(),
            )
            .await
        }
    };
    let all = paging::collect_all(10, None, fetch).await.unwrap();
    assert_eq!(
        all.iter().map(|p| p.id.unwrap()).collect::<Vec<_>>(),
        (1..=23).collect::<Vec<_>>()
    );
    let first_run = server.received_requests().await.unwrap().len();
    assert_eq!(first_run, 3);
    let capped = paging::collect_all(10, Some(12), fetch).await.unwrap();
    assert_eq!(capped.len(), 12);
    // 12 results need two pages of 10, never the third.
    assert_eq!(
        server.received_requests().await.unwrap().len() - first_run,
        2
    );
}

/// The multipart fields of a received request, as (name, value or file name) pairs.
fn multipart_fields(request: &Request) -> Vec<(String, String)> {
    let ct = request
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    let boundary = ct.split("boundary=").nth(1).expect("multipart boundary");
    let body = String::from_utf8_lossy(&request.body);
    let mut fields = Vec::new();
    for part in body.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap();
        let value = match head.split("filename=\"").nth(1) {
            Some(f) => f.split('"').next().unwrap().to_string(),
            None => value.trim_end_matches("\r\n").to_string(),
        };
        fields.push((name.to_string(), value));
    }
    fields
}

fn recorded_fields(ex: &Exchange) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in ex.request_fields.as_object().unwrap() {
        match v {
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .map(|i| (k.clone(), i.as_str().unwrap().to_string())),
            ),
            Value::String(s) => out.push((k.clone(), s.clone())),
            other => out.push((k.clone(), other.to_string())),
        }
    }
    out.sort();
    out
}

fn scans_dir() -> String {
    format!(
        "{}/dojo-sdk/tests/fixtures/scans",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn import_sends_the_recorded_multipart_fields_and_decodes_statistics() {
    let ex = exchange("import_scan_engagement");
    let server = MockServer::start().await;
    ex.mount(&server).await;
    let mut upload = ScanUpload::new("ZAP Scan");
    upload.engagement = Some(9);
    upload.minimum_severity = Some("Low".into());
    upload.active = Some(true);
    upload.verified = Some(false);
    upload.tags = vec!["ci".into(), "zap".into()];
    upload.test_title = Some("ZAP nightly".into());
    let file = ScanFile::from_path(format!("{}/zap-0_zap_sample.xml", scans_dir()))
        .await
        .unwrap();
    let answer = client(&server).import_scan(&upload, &file).await.unwrap();
    assert_eq!(answer.test_id, Some(32));
    let stats = serde_json::to_value(&answer.statistics).unwrap();
    assert_eq!(stats["after"]["low"]["active"], json!(3));

    let sent = &server.received_requests().await.unwrap()[0];
    let mut fields = multipart_fields(sent);
    fields.sort();
    assert_eq!(fields, recorded_fields(&ex));
    assert_eq!(
        sent.headers.get("authorization").unwrap(),
        "Token test-token"
    );
}

#[tokio::test]
async fn reimport_sends_its_fields_and_reports_the_delta() {
    let ex = exchange("reimport_scan_test");
    let server = MockServer::start().await;
    ex.mount(&server).await;
    let fields = ex.request_fields.clone();
    let mut upload = ScanUpload::new(fields["scan_type"].as_str().unwrap());
    upload.test = fields["test"].as_str().and_then(|t| t.parse().ok());
    let file = ScanFile::from_bytes(
        "zap-1_zap_sample_0_and_new_absent.xml",
        b"<OWASPZAPReport/>".to_vec(),
    );
    let answer = client(&server).reimport_scan(&upload, &file).await.unwrap();
    let stats = serde_json::to_value(&answer.statistics).unwrap();
    assert!(stats["delta"].is_object(), "delta decoded: {stats}");
    let sent = multipart_fields(&server.received_requests().await.unwrap()[0]);
    assert!(sent.contains(&("test".into(), fields["test"].as_str().unwrap().into())));
    assert!(sent.contains(&(
        "file".into(),
        "zap-1_zap_sample_0_and_new_absent.xml".into()
    )));
}

#[tokio::test]
async fn import_errors_in_both_shapes() {
    for (fixture, text) in [
        (
            "import_scan_missing_context",
            "product_name parameter missing",
        ),
        ("import_scan_engagement_missing", "does not exist"),
        ("import_scan_bad_scan_type", "not a valid choice"),
        ("reader_import_scan_403", ""),
    ] {
        let server = MockServer::start().await;
        exchange(fixture).mount(&server).await;
        let mut upload = ScanUpload::new("ZAP Scan");
        upload.engagement = Some(9);
        let file = ScanFile::from_bytes("x.xml", b"<x/>".to_vec());
        let err = client(&server)
            .import_scan(&upload, &file)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(text), "{fixture}: {err}");
    }
}

#[tokio::test]
async fn misplaced_upload_fields_are_refused_before_sending() {
    let server = MockServer::start().await;
    let mut upload = ScanUpload::new("ZAP Scan");
    upload.test = Some(3);
    let file = ScanFile::from_bytes("x.xml", b"<x/>".to_vec());
    assert!(client(&server).import_scan(&upload, &file).await.is_err());
    let mut upload = ScanUpload::new("ZAP Scan");
    upload.engagement = Some(3);
    assert!(client(&server).reimport_scan(&upload, &file).await.is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_dojo_is_a_transport_error_without_the_url() {
    let dojo = DojoClient::builder("http://127.0.0.1:9/secret-path")
        .token("t")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let err = call(dojo.read().findings_retrieve().id(1).send())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(!err.to_string().contains("secret-path"), "{err}");
}
