//! The geocoder (`web.geocoder_url`) is asked once per place: its answers
//! are cached, places it does not know too, so repeating a search does not
//! make the node ask a third party again (issue 15). The geocoder is a fake
//! one on a loopback port that counts the requests it gets.

use signpost_tests::fake_hub::{FakeHub, Script};
use signpost_tests::TestNode;

fn json(body: &str) -> Script {
    Script::Json(body.as_bytes().to_vec())
}

#[tokio::test]
async fn geocoder_answers_are_cached_misses_too() {
    let geocoder = FakeHub::start(Script::Routes(vec![
        (
            "/postcodes/ZZ99ZZ".into(),
            json(r#"{"status": 200, "result": {"latitude": 54.05, "longitude": -2.8}}"#),
        ),
        ("/places".into(), json(r#"{"status": 200, "result": []}"#)),
    ]))
    .await;
    let agg = TestNode::start_aggregator("Geocoding CVS", |c| {
        c.web.geocoder_url = Some(geocoder.url());
    })
    .await;

    for round in 0..3 {
        let page = agg.get("/?near=ZZ9+9ZZ").await;
        let text = String::from_utf8_lossy(&page.body);
        assert!(text.contains("from the geocoder"), "round {round}: {text}");
    }
    assert_eq!(geocoder.hits(), 1, "a found place is asked once");

    for _ in 0..3 {
        let page = agg.get("/?near=Nowhereville").await;
        let text = String::from_utf8_lossy(&page.body);
        assert!(text.contains("We could not find"), "{text}");
    }
    // The same town typed in other letters is the same question.
    agg.get("/?near=NOWHEREVILLE").await;
    assert_eq!(geocoder.hits(), 2, "a place it does not know is asked once");

    agg.get("/?near=ZZ1").await;
    agg.get("/?near=ZZ1").await;
    assert_eq!(geocoder.hits(), 3, "a 404 is remembered too");
}
