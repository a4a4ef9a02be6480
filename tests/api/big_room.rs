//! A big room (docs/RULES.md §2–§4 at scale): one room filled to 5,000 members by joins that
//! run at once, through the rooms service on the real database (SQLite file or PostgreSQL),
//! then departures that need succession. Contention must wait, never fail: no join may
//! answer `internal` or `unavailable`, and the room's rules hold at the end.

use std::sync::Arc;

use crate::common::TestDb;
use domain::{
    room::{Command, Role},
    UserId,
};
use entity::user;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use service::{hub::RecordingHub, rooms::NewRoom, Rooms};

const MEMBERS: usize = 5_000;
/// Joins in flight at once (the pool holds 8 connections on SQLite, 16 on PostgreSQL).
const AT_ONCE: usize = 16;

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_fills_to_five_thousand_by_concurrent_joins_and_keeps_its_rules() {
    let test_db = TestDb::new().await;
    if crate::common::on_postgres() {
        // What is measured here is contention, not the disk: commits need not wait for it.
        let admin = test_db.connect().await;
        let name = test_db.url.rsplit('/').next().unwrap().to_owned();
        admin
            .execute_unprepared(&format!(
                "ALTER DATABASE \"{name}\" SET synchronous_commit = off"
            ))
            .await
            .unwrap();
        admin.close().await.unwrap();
    }
    let db = test_db.connect().await;
    service::db::migrate(&db).await.unwrap();
    // People are made in the database directly: signing 5,000 up through argon2 would test
    // nothing here but patience.
    let ids: Vec<String> = (0..=MEMBERS).map(|i| format!("big-user-{i:05}")).collect();
    for chunk in ids.chunks(500) {
        user::Entity::insert_many(chunk.iter().map(|id| user::ActiveModel {
            id: Set(id.clone()),
            username: Set(id.clone()),
            username_key: Set(id.clone()),
            username_skeleton: Set(None),
            password_hash: Set("unused".into()),
            created_at: Set(chrono::Utc::now()),
            deleted_at: Set(None),
        }))
        .exec(&db)
        .await
        .unwrap();
    }
    let rooms = Rooms::new(db.clone(), Arc::new(RecordingHub::default()));
    let owner = &UserId::new(ids[0].clone());
    let room = rooms
        .create(
            owner,
            NewRoom {
                name: "Stadium",
                topic: None,
                join_policy: Some("open"),
                max_members: None,
            },
        )
        .await
        .unwrap();
    let room_id = room.id.clone();

    // Everyone joins, AT_ONCE at a time, each in their own task.
    let queue = Arc::new(std::sync::Mutex::new(ids[1..].to_vec()));
    let mut workers = Vec::new();
    for _ in 0..AT_ONCE {
        let (queue, rooms, room_id) = (queue.clone(), rooms.clone(), room_id.clone());
        workers.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            loop {
                let Some(user) = queue.lock().unwrap().pop() else {
                    return refused;
                };
                if let Err(e) = rooms
                    .act(&UserId::new(user.clone()), &room_id, Command::Join)
                    .await
                {
                    refused.push(format!("{user}: {e:?}"));
                }
            }
        }));
    }
    let mut refused = Vec::new();
    for w in workers {
        refused.extend(w.await.unwrap());
    }
    assert!(
        refused.is_empty(),
        "{} joins failed: {:?}",
        refused.len(),
        &refused[..refused.len().min(5)]
    );
    let members = count(
        &db,
        &format!(
            "SELECT COUNT(*) FROM memberships WHERE room_id = '{room_id}' AND status = 'active'"
        ),
    )
    .await;
    assert_eq!(members, MEMBERS as i64 + 1);

    // The owner leaves: the earliest joiner is the only candidate, as no one else is an admin.
    let (before, _) = rooms.get(owner, &room_id).await.unwrap();
    assert_eq!(before.member_count as usize, MEMBERS + 1);
    rooms.act(owner, &room_id, Command::Leave).await.unwrap();
    let roles = |role: &str| {
        format!(
            "SELECT COUNT(*) FROM memberships WHERE room_id = '{room_id}' AND status = 'active' \
             AND role = '{role}'"
        )
    };
    assert_eq!(count(&db, &roles("owner")).await, 1);
    assert_eq!(count(&db, &roles("admin")).await, 0);
    let earliest = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT user_id FROM memberships WHERE room_id = '{room_id}' AND status = 'active' \
                 ORDER BY join_seq LIMIT 1"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    let (_, role) = rooms
        .get(&UserId::new(earliest.clone()), &room_id)
        .await
        .unwrap();
    assert_eq!(
        role,
        Some(Role::Owner),
        "the earliest joiner took the room on"
    );
}
