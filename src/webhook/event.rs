//! The JSON events sent to the webhook URL.

use serde::Serialize;
use uuid::Uuid;

/// `type` of the event sent for each accepted application.
pub const APPLICATION_CREATED: &str = "application.created";
/// `type` of the event sent by `partner-api webhooks test`.
pub const WEBHOOK_TEST: &str = "webhook.test";

/// The envelope of every event.
#[derive(Serialize)]
struct Event<'a, D: Serialize> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: &'a str,
    data: D,
}

/// `data` of an `application.created` event: the stored application.
#[derive(Serialize)]
pub struct ApplicationData<'a> {
    pub id: &'a str,
    pub creator_handle: &'a str,
    pub sub_id: &'a str,
    pub job_id: &'a str,
    pub applicant_email: &'a str,
    pub applicant_first_name: &'a str,
    pub applicant_last_name: &'a str,
    pub partner_test_run_id: Option<&'a str>,
    pub created_at: &'a str,
}

/// Creates an event id: `evt_` and a UUID v7 in hex, so that ids sort by
/// creation time.
pub fn new_event_id() -> String {
    format!("evt_{}", Uuid::now_v7().simple())
}

/// Serializes an `application.created` event. Its `timestamp` is the time
/// the application was stored.
pub fn application_created(event_id: &str, application: &ApplicationData<'_>) -> String {
    serialize(&Event {
        id: event_id,
        event_type: APPLICATION_CREATED,
        timestamp: application.created_at,
        data: application,
    })
}

/// Serializes a `webhook.test` event, which carries no application.
pub fn webhook_test(event_id: &str, timestamp: &str) -> String {
    serialize(&Event {
        id: event_id,
        event_type: WEBHOOK_TEST,
        timestamp,
        data: serde_json::json!({
            "message": "test event sent by `partner-api webhooks test`"
        }),
    })
}

fn serialize<D: Serialize>(event: &Event<'_, D>) -> String {
    serde_json::to_string(event).expect("events serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_event_has_envelope_and_fields() {
        let body = application_created(
            "evt_1",
            &ApplicationData {
                id: "0190",
                creator_handle: "jiloma",
                sub_id: "jiloma-rthgip",
                job_id: "job_12345",
                applicant_email: "a@example.com",
                applicant_first_name: "Alex",
                applicant_last_name: "Rivera",
                partner_test_run_id: None,
                created_at: "2026-01-02T03:04:05.678Z",
            },
        );
        let event: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(event["id"], "evt_1");
        assert_eq!(event["type"], "application.created");
        assert_eq!(event["timestamp"], "2026-01-02T03:04:05.678Z");
        assert_eq!(event["data"]["id"], "0190");
        assert_eq!(event["data"]["sub_id"], "jiloma-rthgip");
        assert_eq!(event["data"]["applicant_email"], "a@example.com");
        assert_eq!(
            event["data"]["partner_test_run_id"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn event_ids_are_unique_and_prefixed() {
        let first = new_event_id();
        let second = new_event_id();
        assert!(first.starts_with("evt_"), "{first}");
        assert_eq!(first.len(), 4 + 32);
        assert_ne!(first, second);
    }
}
