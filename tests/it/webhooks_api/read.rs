//! Listing and reading webhooks without secrets.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{WEBHOOK_NOT_FOUND, assert_no_secret, assert_webhook_view, hook_path, hooks_path};
use crate::common::messages::{BAD_UUID, ORG_NOT_FOUND, denied};
use crate::common::{Backend, TestApp, assert_error, assert_validation, random_id};

async fn list_and_get_never_show_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let f = app.org_with_roles().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (id, _) = app
            .create_webhook(
                &f.org,
                &f.owner,
                &format!("https://example.com/{i}"),
                &["member.added"],
            )
            .await;
        ids.push(id);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();

    for viewer in [&f.owner, &f.admin] {
        let (status, body) = app.get(&hooks_path(&f.org), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_no_secret(&body);
        assert_eq!(body["nextCursor"], Value::Null);
        let data = body["data"].as_array().expect("data");
        let listed: Vec<String> =
            data.iter().map(|w| w["id"].as_str().expect("id").to_owned()).collect();
        assert_eq!(listed, newest_first);
        for (i, w) in data.iter().enumerate() {
            assert_webhook_view(
                w,
                &f.org,
                &format!("https://example.com/{}", 2 - i),
                &["member.added"],
                true,
            );
        }

        // Paginated.
        let (status, page1) =
            app.get(&format!("{}?limit=2", hooks_path(&f.org)), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{page1}");
        let first: Vec<&str> = page1["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|w| w["id"].as_str().expect("id"))
            .collect();
        assert_eq!(first, [newest_first[0].as_str(), newest_first[1].as_str()]);
        let cursor = page1["nextCursor"].as_str().expect("a next page");
        let (status, page2) = app
            .get(&format!("{}?limit=2&cursor={cursor}", hooks_path(&f.org)), Some(&viewer.token))
            .await;
        assert_eq!(status, StatusCode::OK, "{page2}");
        assert_eq!(page2["data"].as_array().expect("data").len(), 1);
        assert_eq!(page2["data"][0]["id"], newest_first[2].as_str());
        assert_eq!(page2["nextCursor"], Value::Null);
        assert_no_secret(&page2);

        let (status, body) = app.get(&hook_path(&f.org, &ids[1]), Some(&viewer.token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_webhook_view(&body, &f.org, "https://example.com/1", &["member.added"], true);
        assert_eq!(body["id"], ids[1].as_str());
    }

    let (status, body) =
        app.get(&format!("{}?limit=0", hooks_path(&f.org)), Some(&f.owner.token)).await;
    assert_validation(status, &body, &["limit must not be less than 1"]);

    let (status, body) = app.get(&hooks_path(&f.org), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhooks"));
    let (status, body) = app.get(&hook_path(&f.org, &ids[0]), Some(&f.member.token)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, &denied("view webhooks"));
    let (status, body) = app.get(&hooks_path(&f.org), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);
    let (status, body) = app.get(&hook_path(&f.org, &ids[0]), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, ORG_NOT_FOUND);

    let (status, body) = app.get(&hook_path(&f.org, &random_id()), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&hook_path(&f.org, "nope"), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, BAD_UUID);

    // Another organization's webhook is not found through one's own organization.
    let other_org = app.create_org(&f.outsider, "Other Corp").await;
    let (status, body) = app.get(&hook_path(&other_org, &ids[0]), Some(&f.outsider.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&hooks_path(&other_org), Some(&f.outsider.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!([]));

    // A deleted webhook is gone from both.
    let (status, _) = app.delete(&hook_path(&f.org, &ids[1]), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get(&hook_path(&f.org, &ids[1]), Some(&f.owner.token)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, WEBHOOK_NOT_FOUND);
    let (status, body) = app.get(&hooks_path(&f.org), Some(&f.owner.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|w| w["id"].as_str().expect("id"))
        .collect();
    assert_eq!(listed, [ids[2].as_str(), ids[0].as_str()]);
}

on_both_backends!(list_and_get_never_show_secrets);
