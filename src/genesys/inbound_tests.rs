//! Tests of the inbound bodies: the JSON each builder sends Genesys, and what a stored body
//! says.

use super::*;
use serde_json::json;

fn user() -> Recipient {
    from("u1", None)
}

#[test]
fn bodies_have_genesys_members_and_only_those_set() {
    let profile = UserProfile {
        user_id: "u1".into(),
        first_name: Some("Ann".into()),
        last_name: Some(String::new()),
        email: Some("a@x".into()),
        ..UserProfile::default()
    };
    let attrs = BTreeMap::from([("k".to_string(), "v".to_string())]);
    let first = text_message(from("u1", Some(&profile)), "m1", "t", "hi", Some(&attrs));
    let from_ann = json!({"id": "u1", "idType": "Opaque", "firstName": "Ann", "email": "a@x"});
    let metadata = json!({"customAttributes": {"k": "v"}});
    assert_eq!(
        serde_json::to_value(&first).unwrap(),
        json!({"channel": {"messageId": "m1", "from": from_ann, "time": "t", "metadata": metadata},
            "text": "hi"})
    );
    let a = Attachment {
        url: "https://f/x.png".into(),
        mime_type: "image/png".into(),
        file_name: Some("x.png".into()),
    };
    let file = attachment_message(user(), "m2", "t", &a, Some(""));
    let attachment = json!({"mediaType": "Image", "url": "https://f/x.png", "mime": "image/png", "filename": "x.png"});
    assert_eq!(
        serde_json::to_value(&file).unwrap(),
        json!({"channel": {"messageId": "m2", "from": {"id": "u1", "idType": "Opaque"}, "time": "t"},
            "content": [{"attachment": attachment}]})
    );
    let b = ButtonResponse {
        kind: ChoiceKind::QuickReply,
        text: "Blue".into(),
        payload: "blue".into(),
        originating_message_id: "o1".into(),
    };
    let choice = structured_response(user(), "m3", "t", &b);
    assert_eq!(
        serde_json::to_value(&choice).unwrap(),
        json!({"channel": {"messageId": "m3", "from": {"id": "u1", "idType": "Opaque"}, "time": "t"},
            "buttonResponse": {"type": "QuickReply", "text": "Blue", "payload": "blue"},
            "originatingMessageId": "o1"})
    );
    assert_eq!(
        serde_json::to_value(typing_event(user(), "t")).unwrap(),
        json!({"channel": {"from": {"id": "u1", "idType": "Opaque"}, "time": "t"},
            "events": [{"eventType": "Typing"}]})
    );
    let to = json!({"to": {"id": "u1", "idType": "Opaque"}, "time": "t"});
    assert_eq!(
        serde_json::to_value(receipt("u1", "m4", "t", true, Some("ignored"))).unwrap(),
        json!({"id": "m4", "channel": to, "status": "Delivered", "isFinalReceipt": true})
    );
    let reason = json!({"code": "GeneralError", "message": "The message could not be delivered to the user"});
    assert_eq!(
        serde_json::to_value(receipt("u1", "m4", "t", false, Some(""))).unwrap(),
        json!({"id": "m4", "channel": to, "status": "Failed", "isFinalReceipt": true,
            "reasons": [reason]})
    );
    // What a stored body says reads back through the same record.
    let stored: Message = serde_json::from_value(serde_json::to_value(&file).unwrap()).unwrap();
    assert_eq!(summary(&stored), Some(("m2".into(), None, Some(a))));
    assert_eq!(
        summary(&choice),
        Some(("m3".into(), Some("Blue".into()), None))
    );
}
