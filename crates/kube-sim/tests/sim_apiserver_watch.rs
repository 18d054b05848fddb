//! Watches on the simulated API server (events, bookmarks, 410 Gone, timeouts) and fault
//! injection, through kube-rs `Api::watch` and `kube::runtime::watcher`.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    Api, Client,
    api::{PostParams, WatchEvent, WatchParams},
    runtime::{WatchStreamExt, watcher},
};
use kube_sim::apiserver::{Config, SimApiServer, WriteError};
use serde_json::json;

fn config() -> Config {
    Config {
        bookmark_interval: Duration::from_millis(50),
        ..Config::default()
    }
}

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(
        json!({ "metadata": { "name": name, "labels": { "app": "w" } },
                                   "data": { "v": value } }),
    )
    .unwrap()
}

fn rv(obj: &ConfigMap) -> String {
    obj.metadata
        .resource_version
        .clone()
        .expect("resourceVersion")
}

/// Next event that is not a bookmark, with a generous bound so a broken server fails the
/// test instead of hanging it.
async fn next_event<S>(stream: &mut S) -> WatchEvent<ConfigMap>
where
    S: futures::Stream<Item = kube::Result<WatchEvent<ConfigMap>>> + Unpin,
{
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("an event in time")
            .expect("stream open")
            .expect("no error");
        if !matches!(ev, WatchEvent::Bookmark(_)) {
            return ev;
        }
    }
}

#[tokio::test]
async fn watch_from_version_sees_changes_and_bookmarks() {
    let server = SimApiServer::start(config()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let first = cms
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .expect("create");
    let wp = WatchParams {
        bookmarks: true,
        ..WatchParams::default()
    };
    let mut stream = cms.watch(&wp, &rv(&first)).await.expect("watch").boxed();
    cms.create(&PostParams::default(), &cm("b", "1"))
        .await
        .expect("create b");
    let mut changed = first.clone();
    changed.data = Some([("v".to_string(), "2".to_string())].into());
    cms.replace("a", &PostParams::default(), &changed)
        .await
        .expect("update a");
    cms.delete("b", &Default::default())
        .await
        .expect("delete b");

    match next_event(&mut stream).await {
        WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("expected ADDED b, got {other:?}"),
    }
    match next_event(&mut stream).await {
        WatchEvent::Modified(o) => assert_eq!(o.data.unwrap()["v"], "2"),
        other => panic!("expected MODIFIED a, got {other:?}"),
    }
    match next_event(&mut stream).await {
        WatchEvent::Deleted(o) => assert_eq!(o.metadata.name.as_deref(), Some("b")),
        other => panic!("expected DELETED b, got {other:?}"),
    }
    // Quiet now: the next item is a bookmark carrying the latest version.
    let bm = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("bookmark in time")
        .expect("open")
        .expect("ok");
    match bm {
        WatchEvent::Bookmark(b) => {
            let v: u64 = b.metadata.resource_version.parse().unwrap();
            assert_eq!(v, server.resource_version());
        }
        other => panic!("expected BOOKMARK, got {other:?}"),
    }
}

#[tokio::test]
async fn label_selector_watch_reports_objects_leaving_the_selection() {
    let server = SimApiServer::start(config()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let a = cms
        .create(&PostParams::default(), &cm("a", "1"))
        .await
        .expect("create");
    let wp = WatchParams::default().labels("app=w");
    let mut stream = cms.watch(&wp, &rv(&a)).await.expect("watch").boxed();
    let mut relabelled = a.clone();
    relabelled.metadata.labels = Some([("app".to_string(), "other".to_string())].into());
    cms.replace("a", &PostParams::default(), &relabelled)
        .await
        .expect("relabel");
    match next_event(&mut stream).await {
        WatchEvent::Deleted(o) => assert_eq!(o.metadata.name.as_deref(), Some("a")),
        other => panic!("expected DELETED when leaving the selection, got {other:?}"),
    }
}

#[tokio::test]
async fn watch_older_than_history_gets_410() {
    let server = SimApiServer::start(Config {
        history: 3,
        ..config()
    })
    .await
    .expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let first = cms
        .create(&PostParams::default(), &cm("a", "0"))
        .await
        .expect("create");
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("x{i}"), "0"))
            .await
            .expect("create");
    }
    let mut stream = cms
        .watch(&WatchParams::default(), &rv(&first))
        .await
        .expect("watch")
        .boxed();
    let ev = stream.next().await.expect("an event").expect("ok");
    match ev {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        other => panic!("expected ERROR 410, got {other:?}"),
    }
    assert!(
        stream.next().await.is_none(),
        "the stream ends after the error"
    );
}

#[tokio::test]
async fn watch_timeout_ends_the_stream() {
    let server = SimApiServer::start(config()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let now = server.resource_version().to_string();
    let wp = WatchParams::default().timeout(1);
    let mut stream = cms.watch(&wp, &now).await.expect("watch").boxed();
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(ev) = stream.next().await {
            let ev = ev.expect("no error");
            assert!(
                matches!(ev, WatchEvent::Bookmark(_)),
                "only bookmarks: {ev:?}"
            );
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends after timeoutSeconds");
}

#[tokio::test]
async fn watcher_recovers_from_closed_streams_and_forced_410() {
    let server = SimApiServer::start(config()).await.expect("start");
    let client = server.client().expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    server
        .faults()
        .set_watch_close_after(Some(Duration::from_millis(200)));
    let mut events = watcher(cms.clone(), watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut seen = Vec::new();
    let mut inits = 0;
    for i in 0..6 {
        if i == 3 {
            server.faults().force_gone_on_next_watch();
            server.faults().close_watches();
        }
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), "1"))
            .await
            .expect("create");
        let want = format!("c{i}");
        while !seen.contains(&want) {
            let ev = tokio::time::timeout(Duration::from_secs(30), events.try_next())
                .await
                .expect("an event in time");
            match ev {
                Ok(Some(watcher::Event::Apply(o) | watcher::Event::InitApply(o))) => {
                    seen.push(o.metadata.name.unwrap())
                }
                Ok(Some(watcher::Event::Init)) => inits += 1,
                Ok(Some(_)) => {}
                Ok(None) => panic!("watcher ended"),
                // Errors (the 410) are reported, then the watcher relists.
                Err(_) => {}
            }
        }
    }
    assert!(
        inits >= 2,
        "the forced 410 made the watcher relist (inits = {inits})"
    );
}

#[tokio::test]
async fn write_faults_reach_the_client() {
    let server = SimApiServer::start(config()).await.expect("start");
    let client = server.client().expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let faults = server.faults();

    faults.set_write_errors(1.0, WriteError::Internal);
    let err = cms
        .create(&PostParams::default(), &cm("f", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500),
        "{err:?}"
    );
    // Reads are not affected.
    cms.list(&Default::default())
        .await
        .expect("list still works");

    // 429 with Retry-After, seen by a client without retries.
    faults.set_write_errors(1.0, WriteError::TooManyRequests { retry_after: 3 });
    let mut cfg = kube::Config::new(server.url().parse().unwrap());
    cfg.default_retry = false;
    let raw: Api<ConfigMap> = Api::namespaced(Client::try_from(cfg).unwrap(), "default");
    let err = raw
        .create(&PostParams::default(), &cm("f", "1"))
        .await
        .unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!((s.code, s.reason.as_str()), (429, "TooManyRequests"));
            assert_eq!(s.details.expect("details").retry_after_seconds, 3);
        }
        other => panic!("expected 429, got {other:?}"),
    }

    // The default client retries 429s: with half of the writes failing, writes succeed.
    faults.set_write_errors(0.5, WriteError::TooManyRequests { retry_after: 0 });
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("r{i}"), "1"))
            .await
            .expect("retried create");
    }

    faults.clear();
    faults.set_conflict_rate(1.0);
    let err = cms
        .create(&PostParams::default(), &cm("c", "1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409),
        "{err:?}"
    );

    faults.clear();
    faults.set_latency(Duration::from_millis(20));
    cms.create(&PostParams::default(), &cm("slow", "1"))
        .await
        .expect("slow create");
    faults.clear();
    assert_eq!(
        cms.list(&Default::default())
            .await
            .expect("list")
            .items
            .len(),
        6
    );
}

#[tokio::test]
async fn hung_requests_outlast_a_client_timeout_and_are_carried_out_after() {
    let server = SimApiServer::start(config()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let faults = server.faults();
    faults.set_hangs(1.0, Duration::from_millis(500));
    // A client that gives up after 100 ms sees a timeout...
    let (params, hung) = (PostParams::default(), cm("hung", "1"));
    let create = cms.create(&params, &hung);
    let timed_out = tokio::time::timeout(Duration::from_millis(100), create).await;
    assert!(timed_out.is_err(), "the request hangs");
    assert_eq!(faults.hung(), 1);
    // ...and a patient one gets its answer.
    faults.set_hangs(1.0, Duration::from_millis(50));
    cms.create(&PostParams::default(), &cm("slow", "1"))
        .await
        .expect("a hung request is answered in the end");
    assert_eq!(faults.hung(), 2);
    faults.clear();
    cms.get("slow").await.expect("created");
    assert_eq!(faults.hung(), 2, "no hang once cleared");
}

#[tokio::test]
async fn streaming_list_watcher_gets_initial_events_then_changes() {
    let server = SimApiServer::start(config()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    for i in 0..3 {
        cms.create(&PostParams::default(), &cm(&format!("s{i}"), "1"))
            .await
            .expect("create");
    }
    let mut events = watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut initial = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), events.try_next())
            .await
            .expect("an event in time")
            .expect("no error")
            .expect("open");
        match ev {
            watcher::Event::InitApply(o) => initial.push(o.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(initial, vec!["s0", "s1", "s2"]);
    cms.create(&PostParams::default(), &cm("later", "1"))
        .await
        .expect("create");
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(20), events.try_next())
            .await
            .expect("an event in time")
            .expect("no error")
            .expect("open");
        if let watcher::Event::Apply(o) = ev {
            assert_eq!(o.metadata.name.as_deref(), Some("later"));
            break;
        }
    }
}

/// The in-process client reaches the same server as the HTTP one: what one writes the other
/// reads and watches, the injected faults apply to it, and kube's retry of 429s with it.
#[tokio::test]
async fn the_local_client_is_the_same_server_without_http() {
    let server = SimApiServer::start(config()).await.expect("start");
    let http: Api<ConfigMap> = Api::namespaced(server.client().expect("client"), "default");
    let local: Api<ConfigMap> = Api::namespaced(server.local_client(), "default");

    let created = local
        .create(&PostParams::default(), &cm("local", "1"))
        .await
        .expect("create in-process");
    let read = http.get("local").await.expect("read over HTTP");
    assert_eq!(rv(&read), rv(&created));
    assert_eq!(read.data, created.data);

    let mut events = local
        .watch(&WatchParams::default(), &rv(&created))
        .await
        .expect("watch in-process")
        .boxed();
    http.create(&PostParams::default(), &cm("remote", "2"))
        .await
        .expect("create over HTTP");
    match next_event(&mut events).await {
        WatchEvent::Added(cm) => assert_eq!(cm.metadata.name.as_deref(), Some("remote")),
        other => panic!("expected the HTTP client's create, got {other:?}"),
    }

    server.faults().set_write_errors(1.0, WriteError::Internal);
    let err = local
        .create(&PostParams::default(), &cm("refused", "3"))
        .await
        .expect_err("an injected fault");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500),
        "expected a 500, got {err:?}"
    );
    server.faults().clear();
    assert!(local.get_opt("refused").await.expect("get").is_none());

    // A 429 is retried by the client, as over HTTP: the create goes through once the server
    // stops throttling, after several refused attempts.
    server
        .faults()
        .set_write_errors(1.0, WriteError::TooManyRequests { retry_after: 0 });
    let before = server.faults().injected();
    let unthrottle = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.faults().clear();
    };
    let (params, throttled) = (PostParams::default(), cm("throttled", "4"));
    let (created, ()) = tokio::join!(local.create(&params, &throttled), unthrottle);
    created.expect("created once the throttling ends");
    assert!(
        server.faults().injected() - before > 1,
        "the 429 was not retried"
    );
}
