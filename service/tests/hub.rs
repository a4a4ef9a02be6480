//! Committed room decisions reach the hub: the room's events and each stored notification.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use domain::{
    effects::NotificationKind,
    room::{Command, Event},
};
use service::{
    db,
    hub::{Published, RecordingHub},
    rooms::NewRoom,
    Accounts, Rooms,
};

#[tokio::test]
async fn a_committed_decision_publishes_its_events_and_notifications() {
    let dir = tempfile::tempdir().unwrap();
    let conn = db::connect(&db::default_sqlite_url(dir.path()))
        .await
        .unwrap();
    db::migrate(&conn).await.unwrap();
    let accounts = Accounts::new(conn.clone(), true).await.unwrap();
    let ann = accounts.signup("ann", "password123").await.unwrap();
    let bob = accounts.signup("bob", "password123").await.unwrap();
    let hub = RecordingHub::default();
    let rooms = Rooms::new(conn.clone(), Arc::new(hub.clone()));
    let room = rooms
        .create(
            &ann.id,
            NewRoom {
                name: "Live",
                topic: None,
                join_policy: Some("invite"),
                max_members: None,
            },
        )
        .await
        .unwrap();
    hub.take();

    rooms
        .act(
            &ann.id,
            &room.id,
            Command::Invite {
                user: bob.id.clone(),
            },
        )
        .await
        .unwrap();
    let items = hub.take();
    match &items[0] {
        Published::Room {
            room_id, events, ..
        } => {
            assert_eq!(room_id, &room.id);
            assert!(matches!(events[0], Event::Invited { .. }));
        }
        other => panic!("expected the room's events first, got {other:?}"),
    }
    match &items[1] {
        Published::Notification {
            user_id,
            notification,
        } => {
            assert_eq!(user_id, &bob.id);
            assert_eq!(notification.kind, NotificationKind::Invited);
            assert_eq!(
                notification.actor.as_ref().map(|u| u.username.as_str()),
                Some("ann")
            );
        }
        other => panic!("expected bob's notification, got {other:?}"),
    }

    // A refusal publishes nothing.
    assert!(rooms.act(&bob.id, &room.id, Command::Leave).await.is_err());
    assert!(hub.take().is_empty());
}
