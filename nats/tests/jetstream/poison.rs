//! Poison messages: bytes that do not decode are reported with their stream sequence, can be
//! terminated, acknowledged or retried by the caller, and never stall the consumer.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use zerocodec::ErrorKind;
use zerocodec_codecs::{BatchBuilder, HybridCodec};
use zerocodec_nats::{CONTENT_TYPE, Error, Messages, Owned, Publisher};

use crate::{LIMIT, Order, Refund, bounded, durable, fixture, order};

#[tokio::test]
async fn poison_messages_are_reported_with_their_sequence_and_the_consumer_goes_on() {
    bounded(LIMIT, async {
        let f = fixture().await;
        let stream = f.stream("POISON", "poison").await;
        let orders = Publisher::new(f.context.clone());
        let refunds = Publisher::<Refund>::new(f.context.clone());
        let raw = |payload: Bytes| {
            let context = f.context.clone();
            async move {
                context
                    .publish("poison.orders", payload)
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
        };

        orders
            .publish("poison.orders", &order(1))
            .await
            .unwrap()
            .await
            .unwrap(); // 1
        raw(Bytes::from_static(b"\x00\x01garbage")).await; // 2: neither a frame nor JSON
        refunds // 3: a frame of another message type
            .publish(
                "poison.orders",
                &Refund {
                    order: 1,
                    cents: -250,
                },
            )
            .await
            .unwrap()
            .await
            .unwrap();
        let frame = zerocodec::Encode::encode(&HybridCodec::new(), &order(4)).unwrap();
        raw(frame.slice(..frame.len() - 3)).await; // 4: a truncated frame
        let mut batch = BatchBuilder::new(); // 5: a batch where single orders are read
        batch.append(&order(5)).unwrap();
        orders
            .publish_batch("poison.orders", &batch.finish().unwrap())
            .await
            .unwrap()
            .await
            .unwrap();
        let mut headers = async_nats::HeaderMap::new(); // 6: a media type nobody reads here
        headers.insert(CONTENT_TYPE, "text/plain");
        f.context
            .publish_with_headers("poison.orders", headers, "order 6".into())
            .await
            .unwrap()
            .await
            .unwrap();
        raw(Bytes::from_static(br#"{"id": 7, "item": "x"}"#)).await; // 7: JSON of another shape
        orders
            .publish("poison.orders", &order(8))
            .await
            .unwrap()
            .await
            .unwrap(); // 8

        let consumer = durable(&stream, "orders", Duration::from_secs(30)).await;
        let mut messages = Messages::new(
            consumer.messages().await.unwrap(),
            Owned(HybridCodec::<Order>::new()),
        );
        let first = messages.next().await.unwrap().unwrap();
        assert_eq!(first.value(), &order(1));
        first.double_ack().await.unwrap();

        let expected = [
            (2, ErrorKind::Corrupt),
            (3, ErrorKind::TypeMismatch),
            (4, ErrorKind::Incomplete),
            (5, ErrorKind::Unsupported),
            (6, ErrorKind::Unsupported),
            (7, ErrorKind::TypeMismatch),
        ];
        for (sequence, kind) in expected {
            let err = messages.next().await.unwrap().unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains(&format!("stream sequence {sequence}")),
                "{text}"
            );
            assert!(err.is_poison(), "{err}");
            assert_eq!(
                err.codec_error().unwrap().kind(),
                kind,
                "sequence {sequence}: {err}"
            );
            let poison = err.into_poison().unwrap();
            assert_eq!(poison.stream_sequence(), sequence);
            assert_eq!(poison.delivered(), 1);
            assert_eq!(poison.subject(), "poison.orders");
            if sequence == 4 {
                // Retried at once: it comes back after the others, as delivery 2.
                poison.nak(None).await.unwrap();
            } else if sequence % 2 == 0 {
                poison.ack().await.unwrap();
            } else {
                poison.term().await.unwrap();
            }
        }
        // The stream went on past every poison message; the nak'ed one comes back, still
        // poison, now delivered twice, and is terminated.
        let mut last = None;
        let mut retried = None;
        while last.is_none() || retried.is_none() {
            match messages.next().await.unwrap() {
                Ok(received) => {
                    assert_eq!(received.value(), &order(8));
                    received.double_ack().await.unwrap();
                    last = Some(received.stream_sequence());
                }
                Err(Error::Poison(poison)) => {
                    assert_eq!(poison.stream_sequence(), 4);
                    assert_eq!(poison.delivered(), 2);
                    poison.term().await.unwrap();
                    retried = Some(poison.stream_sequence());
                }
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!(last, Some(8));

        // Every message is settled: nothing pending, nothing awaiting an ack.
        let mut consumer = consumer;
        loop {
            let info = consumer.info().await.unwrap();
            if info.num_pending == 0 && info.num_ack_pending == 0 {
                assert_eq!(info.ack_floor.stream_sequence, 8);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(f.server);
    })
    .await;
}

#[tokio::test]
async fn a_message_without_jetstream_metadata_is_a_metadata_error() {
    bounded(LIMIT, async {
        let f = fixture().await;
        // What a core subscription delivers: no JetStream acknowledgement subject.
        let message = async_nats::jetstream::Message {
            message: async_nats::Message {
                subject: "orders.new".into(),
                reply: None,
                payload: Bytes::from_static(b"{}"),
                headers: None,
                status: None,
                description: None,
                length: 2,
            },
            context: f.context.clone(),
        };
        let err = zerocodec_nats::read(&Owned(HybridCodec::<Order>::new()), message).unwrap_err();
        assert!(matches!(err, Error::Metadata { .. }), "{err}");
        assert!(err.to_string().contains("`orders.new`"), "{err}");
        assert!(err.codec_error().is_none());
    })
    .await;
}
