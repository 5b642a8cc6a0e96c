//! Round trips: single messages (owned and archived), batches (consumed and fetched by
//! sequence), and legacy JSON publishers on the same subject.

use std::time::Duration;

use async_nats::jetstream::consumer;
use futures::StreamExt;
use zerocodec_codecs::{BatchBuilder, BatchCodec, Compression, FRAME_CONTENT_TYPE, HybridCodec};
use zerocodec_nats::{
    Archived, BATCH_LEN, Batches, CONTENT_TYPE, Error, MESSAGE_NAME, Messages, Owned, Publisher,
};

use crate::{LIMIT, Order, bounded, durable, fixture, order};

const ACK_WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn single_messages_round_trip_as_owned_values_and_archived_views() {
    bounded(LIMIT, async {
        let f = fixture().await;
        let stream = f.stream("ORDERS", "orders").await;
        let plain = Publisher::new(f.context.clone());
        let lz4 = Publisher::new(f.context.clone()).with_frames(
            HybridCodec::new()
                .with_compression(Compression::Lz4)
                .with_checksum(true),
        );
        let sent: Vec<Order> = (1..=20).map(order).collect();
        for (i, value) in sent.iter().enumerate() {
            let publisher = if i % 2 == 0 { &plain } else { &lz4 };
            let ack = publisher
                .publish("orders.new", value)
                .await
                .unwrap()
                .await
                .unwrap();
            assert_eq!(ack.sequence, i as u64 + 1);
        }

        let owned = durable(&stream, "owned", ACK_WAIT).await;
        let mut messages = Messages::new(
            owned.messages().await.unwrap(),
            Owned(HybridCodec::<Order>::new()),
        );
        for (i, expected) in sent.iter().enumerate() {
            let received = messages.next().await.unwrap().unwrap();
            assert_eq!(received.value(), expected);
            assert_eq!(received.stream_sequence(), i as u64 + 1);
            assert_eq!(received.delivery().delivered(), 1);
            let headers = received.delivery().headers().unwrap();
            assert_eq!(
                headers.get(CONTENT_TYPE).unwrap().as_str(),
                FRAME_CONTENT_TYPE
            );
            assert_eq!(headers.get(MESSAGE_NAME).unwrap().as_str(), "Order");
            received.double_ack().await.unwrap();
        }

        let archived = durable(&stream, "archived", ACK_WAIT).await;
        let mut messages = Messages::new(
            archived.messages().await.unwrap(),
            Archived(HybridCodec::<Order>::new()),
        );
        for expected in &sent {
            let received = messages.next().await.unwrap().unwrap();
            assert_eq!(received.id, expected.id);
            assert_eq!(received.item, expected.item);
            assert_eq!(&received.deserialize().unwrap(), expected);
            received.ack().await.unwrap();
        }
        let info = archived.clone().info().await.unwrap().clone();
        assert_eq!(info.num_pending, 0);
    })
    .await;
}

#[tokio::test]
async fn batches_round_trip_and_item_i_is_read_from_the_stored_batch() {
    bounded(LIMIT, async {
        let f = fixture().await;
        let stream = f.stream("BATCHES", "batches").await;
        let publisher = Publisher::new(f.context.clone())
            .with_batches(BatchCodec::new().with_compression(Compression::zstd()));
        let mut sequences = Vec::new();
        for b in 0..3u64 {
            let mut builder = BatchBuilder::new();
            for i in 0..1_000 {
                builder.append(&order(b * 1_000 + i)).unwrap();
            }
            let batch = builder.finish().unwrap();
            let ack = publisher
                .publish_batch("batches.orders", &batch)
                .await
                .unwrap()
                .await
                .unwrap();
            sequences.push(ack.sequence);
        }

        let consumer = durable(&stream, "reader", ACK_WAIT).await;
        let mut messages = Messages::new(
            consumer.messages().await.unwrap(),
            Batches(BatchCodec::<Order>::new()),
        );
        for (b, &sequence) in sequences.iter().enumerate() {
            let received = messages.next().await.unwrap().unwrap();
            assert_eq!(received.stream_sequence(), sequence);
            assert_eq!(received.len(), 1_000);
            let headers = received.delivery().headers().unwrap();
            assert_eq!(headers.get(BATCH_LEN).unwrap().as_str(), "1000");
            let item = received.get(500).unwrap();
            assert_eq!(item.id, b as u64 * 1_000 + 500);
            assert_eq!(item.item, format!("item-{}", b * 1_000 + 500));
            received.double_ack().await.unwrap();
        }

        // Item i of a stored batch, fetched by its stream sequence.
        let batch =
            zerocodec_nats::fetch(&stream, sequences[1], &Batches(BatchCodec::<Order>::new()))
                .await
                .unwrap();
        assert_eq!(batch.deserialize(999).unwrap(), order(1_999));
        assert_eq!(
            batch.get(1_000).unwrap_err().kind(),
            zerocodec::ErrorKind::OutOfRange
        );

        // A sequence the stream does not hold.
        let err = zerocodec_nats::fetch(&stream, 99, &Batches(BatchCodec::<Order>::new()))
            .await
            .unwrap_err();
        assert!(matches!(err, zerocodec_nats::Error::Fetch(_)), "{err}");
        // A stored batch read as a single message.
        let err = zerocodec_nats::fetch(&stream, sequences[0], &Owned(HybridCodec::<Order>::new()))
            .await
            .unwrap_err();
        match &err {
            zerocodec_nats::Error::Decode { sequence, source } => {
                assert_eq!(*sequence, sequences[0]);
                assert_eq!(source.kind(), zerocodec::ErrorKind::Unsupported);
            }
            other => panic!("expected a decode error, found {other}"),
        }
        assert!(
            err.to_string()
                .contains(&format!("stream sequence {}", sequences[0])),
            "{err}"
        );
    })
    .await;
}

#[tokio::test]
async fn legacy_json_publishers_on_the_same_subject_interoperate() {
    bounded(LIMIT, async {
        let f = fixture().await;
        let stream = f.stream("MIXED", "mixed").await;
        let publisher = Publisher::new(f.context.clone());
        // An old service: plain JSON, no headers; another says what it sends.
        let old = serde_json::to_vec(&order(1)).unwrap();
        f.context
            .publish("mixed.orders", old.into())
            .await
            .unwrap()
            .await
            .unwrap();
        publisher
            .publish("mixed.orders", &order(2))
            .await
            .unwrap()
            .await
            .unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(CONTENT_TYPE, "application/json; charset=utf-8");
        let labelled = serde_json::to_vec(&order(3)).unwrap();
        f.context
            .publish_with_headers("mixed.orders", headers, labelled.into())
            .await
            .unwrap()
            .await
            .unwrap();

        let owned = durable(&stream, "owned", ACK_WAIT).await;
        let mut messages = Messages::new(
            owned.messages().await.unwrap(),
            Owned(HybridCodec::<Order>::new()),
        );
        for id in 1..=3 {
            let received = messages.next().await.unwrap().unwrap();
            assert_eq!(received.value(), &order(id));
            received.ack().await.unwrap();
        }
        let archived = durable(&stream, "archived", ACK_WAIT).await;
        let mut messages = Messages::new(
            archived.messages().await.unwrap(),
            Archived(HybridCodec::<Order>::new()),
        );
        for id in 1..=3 {
            let received = messages.next().await.unwrap().unwrap();
            assert_eq!(received.id, id);
            if id != 2 {
                // JSON is decoded and archived once: the view owns its bytes.
                assert!(!received.is_shared());
            }
            received.ack().await.unwrap();
        }
        // A JSON-only reader of the frames is not this crate's business; the legacy reader
        // reads both. Turning legacy JSON off makes the old publisher's message poison.
        let strict = durable(&stream, "strict", ACK_WAIT).await;
        let mut messages = Messages::new(
            strict.messages().await.unwrap(),
            Owned(HybridCodec::<Order>::new().with_legacy_json(false)),
        );
        let err = messages.next().await.unwrap().unwrap_err();
        let poison = err.into_poison().expect("a poison message");
        assert_eq!(poison.stream_sequence(), 1);
        assert!(poison.error().is_corrupt(), "{}", poison.error());
        poison.term().await.unwrap();
        assert_eq!(messages.next().await.unwrap().unwrap().value(), &order(2));
    })
    .await;
}

#[tokio::test]
async fn a_core_nats_subscriber_reads_published_frames_with_the_same_readers() {
    bounded(LIMIT, async {
        let f = fixture().await;
        f.stream("CORE", "core").await;
        let mut subscriber = f.context.client().subscribe("core.>").await.unwrap();
        f.context.client().flush().await.unwrap();
        let publisher = Publisher::new(f.context.clone());
        publisher
            .publish("core.orders", &order(7))
            .await
            .unwrap()
            .await
            .unwrap();

        // No consumer, no acknowledgements: the reader alone, on the message's bytes.
        let message = subscriber.next().await.unwrap();
        let reader = Archived(HybridCodec::<Order>::new());
        let view =
            zerocodec_nats::Reader::read(&reader, &message.payload, message.headers.as_ref())
                .unwrap();
        assert_eq!(view.deserialize().unwrap(), order(7));
        let owned = zerocodec_nats::Reader::read(
            &Owned(HybridCodec::<Order>::new()),
            &message.payload,
            message.headers.as_ref(),
        )
        .unwrap();
        assert_eq!(owned, order(7));
    })
    .await;
}

#[tokio::test]
async fn push_and_ordered_push_consumers_are_read_like_pull_consumers() {
    bounded(LIMIT, async {
        let f = fixture().await;
        let stream = f.stream("PUSHED", "pushed").await;
        let publisher = Publisher::new(f.context.clone());
        for id in 1..=5 {
            publisher
                .publish("pushed.orders", &order(id))
                .await
                .unwrap()
                .await
                .unwrap();
        }
        // A poison message between the values: bytes that are no frame and no JSON.
        f.context
            .publish("pushed.orders", "not an order".into())
            .await
            .unwrap()
            .await
            .unwrap();
        publisher
            .publish("pushed.orders", &order(6))
            .await
            .unwrap()
            .await
            .unwrap();

        // A durable push consumer with explicit acks, read as archived views.
        let push = stream
            .create_consumer(consumer::push::Config {
                durable_name: Some("push".into()),
                deliver_subject: f.context.client().new_inbox(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = Messages::new(
            push.messages().await.unwrap(),
            Archived(HybridCodec::<Order>::new()),
        );
        let mut ids = Vec::new();
        for sequence in 1..=7 {
            match messages.next().await.unwrap() {
                Ok(received) => {
                    assert_eq!(received.stream_sequence(), sequence);
                    ids.push(received.id);
                    received.ack().await.unwrap();
                }
                Err(Error::Poison(poison)) => {
                    assert_eq!(poison.stream_sequence(), 6, "{poison:?}");
                    assert_eq!(poison.error().kind(), zerocodec::ErrorKind::Corrupt);
                    poison.term().await.unwrap();
                }
                Err(err) => panic!("push consumer: {err}"),
            }
        }
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);

        // An ordered push consumer (no acknowledgements), read into owned values.
        let ordered = stream
            .create_consumer(consumer::push::OrderedConfig {
                deliver_subject: f.context.client().new_inbox(),
                ..Default::default()
            })
            .await
            .unwrap();
        let mut messages = Messages::new(
            ordered.messages().await.unwrap(),
            Owned(HybridCodec::<Order>::new()),
        );
        let mut values = Vec::new();
        for _ in 1..=7 {
            match messages.next().await.unwrap() {
                Ok(received) => values.push(received.into_value()),
                Err(err) => assert!(err.is_poison(), "ordered consumer: {err}"),
            }
        }
        assert_eq!(values, (1..=6).map(order).collect::<Vec<_>>());
    })
    .await;
}
