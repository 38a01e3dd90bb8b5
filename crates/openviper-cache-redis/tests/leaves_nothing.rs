//! The whole conformance suite leaves no key behind on the server it ran against: every check
//! removes what it wrote, pass or fail. Run on a database of its own (db 9) of the test Redis,
//! so that nothing else counts in its `DBSIZE`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fred::prelude::{Builder, Client, ClientLike, Config};
use fred::types::{CustomCommand, Value};
use openviper_cache_conformance::{Outcome, Subject, run_suite};
use openviper_cache_redis::BACKEND_NAME;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_run_of_the_suite_leaves_no_key_on_the_server() {
    let Some(url) = support::service("OPENVIPER_TEST_REDIS_URL") else {
        return;
    };
    let url = format!(
        "{}/9",
        url.trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_end_matches('/')
    );
    let client = Builder::from_config(Config::from_url(&url).unwrap())
        .build()
        .unwrap();
    client.init().await.unwrap();
    let before = dbsize(&client).await;

    let subject = Subject::new(BACKEND_NAME, serde_json::json!({ "url": url }))
        .with_prefix_option("key_prefix");
    let report = run_suite(&subject).await;
    let failed: Vec<_> = report
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Failed(_)))
        .collect();
    assert!(failed.is_empty(), "checks failed: {failed:?}");
    assert!(
        report.iter().filter(|(_, o)| *o == Outcome::Passed).count() > 30,
        "{report:?}"
    );

    let after = dbsize(&client).await;
    assert_eq!(
        after,
        before,
        "the suite left {} keys behind",
        after as i64 - before as i64
    );
    client.quit().await.unwrap();
}

async fn dbsize(client: &Client) -> u64 {
    client
        .custom(
            CustomCommand::new_static("DBSIZE", None, false),
            Vec::<Value>::new(),
        )
        .await
        .unwrap()
}
