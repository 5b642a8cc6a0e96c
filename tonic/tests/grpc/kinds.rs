//! `service!`'s four kinds of method, with archived reads on either side, through a real tonic
//! server and the generated client on 127.0.0.1: what the chat example does not use
//! (client streaming, archived responses, `connect`, interceptors, the service name).

use futures::StreamExt;
use tonic::server::NamedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Request, Response, Status, Streaming};
use zerocodec::OwnedArchive;
use zerocodec_tonic::{BoxStream, service};

use crate::bounded;

#[zerocodec::message(name = "calc.Num")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Num {
    pub(crate) value: i64,
    pub(crate) label: String,
}

#[zerocodec::message(name = "calc.Total")]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Total {
    pub(crate) sum: i64,
    pub(crate) count: u32,
}

service! {
    /// Arithmetic on streams of numbers.
    pub(crate) service Calc = "test.Calc" {
        server CalcServer;
        client CalcClient;

        /// Client streaming: adds up the numbers.
        rpc sum(stream Num) returns (Total);
        /// Unary, archived both ways: the server and the client read in place.
        rpc echo(archived Num) returns (archived Num);
        /// Server streaming, read in place by the client: 1 to `value`.
        rpc count(Num) returns (stream archived Num);
        /// Bidirectional, read in place by the server: each number doubled.
        rpc double(stream archived Num) returns (stream Num);
    }
}

struct Calculator;

impl Calc for Calculator {
    async fn sum(&self, request: Request<Streaming<Num>>) -> Result<Response<Total>, Status> {
        let mut numbers = request.into_inner();
        let mut total = Total { sum: 0, count: 0 };
        while let Some(num) = numbers.message().await? {
            total.sum += num.value;
            total.count += 1;
        }
        Ok(Response::new(total))
    }

    async fn echo(&self, request: Request<OwnedArchive<Num>>) -> Result<Response<Num>, Status> {
        let num = request.into_inner();
        Ok(Response::new(Num {
            value: num.value.to_native(),
            label: format!("echo {}", num.label.as_str()),
        }))
    }

    async fn count(&self, request: Request<Num>) -> Result<Response<BoxStream<Num>>, Status> {
        let n = request.into_inner().value;
        if n < 0 {
            return Err(Status::invalid_argument(
                "cannot count to a negative number",
            ));
        }
        let numbers = (1..=n).map(|value| {
            Ok(Num {
                value,
                label: value.to_string(),
            })
        });
        Ok(Response::new(futures::stream::iter(numbers).boxed()))
    }

    async fn double(
        &self,
        request: Request<Streaming<OwnedArchive<Num>>>,
    ) -> Result<Response<BoxStream<Num>>, Status> {
        let doubled = request.into_inner().map(|num| {
            num.map(|num| Num {
                value: num.value.to_native() * 2,
                label: num.label.as_str().to_owned(),
            })
        });
        Ok(Response::new(doubled.boxed()))
    }
}

fn num(value: i64) -> Num {
    Num {
        value,
        label: format!("n{value}"),
    }
}

/// Serves `Calculator` (behind an interceptor that wants an `x-user` header) on an ephemeral
/// port and returns its address.
async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = CalcServer::with_interceptor(Calculator, |request: Request<()>| {
        match request.metadata().get("x-user") {
            Some(_) => Ok(request),
            None => Err(Status::unauthenticated("who are you?")),
        }
    });
    tokio::spawn(
        Server::builder()
            .add_service(server)
            .serve_with_incoming(TcpIncoming::from(listener)),
    );
    format!("http://{addr}")
}

fn as_user<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("x-user", "ada".parse().unwrap());
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_method_with_archived_reads_on_either_side() {
    bounded(async {
        assert_eq!(<CalcServer<Calculator> as NamedService>::NAME, "test.Calc");
        let mut client = CalcClient::connect(serve().await).await.unwrap();

        let total = client
            .sum(as_user(futures::stream::iter((1..=100).map(num))))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            total,
            Total {
                sum: 5050,
                count: 100
            }
        );

        let echoed: OwnedArchive<Num> = client.echo(as_user(num(7))).await.unwrap().into_inner();
        assert_eq!(echoed.value.to_native(), 7);
        assert_eq!(echoed.label.as_str(), "echo n7");
        assert_eq!(echoed.deserialize().unwrap().label, "echo n7");

        let counted: Vec<i64> = client
            .count(as_user(num(50)))
            .await
            .unwrap()
            .into_inner()
            .map(|n| n.unwrap().value.to_native())
            .collect()
            .await;
        assert_eq!(counted, (1..=50).collect::<Vec<_>>());
        let status = client.count(as_user(num(-1))).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);

        let doubled: Vec<Num> = client
            .double(as_user(futures::stream::iter((1..=20).map(num))))
            .await
            .unwrap()
            .into_inner()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(doubled.len(), 20);
        assert!(
            doubled
                .iter()
                .zip(1..)
                .all(|(d, i)| d.value == 2 * i && d.label == format!("n{i}"))
        );

        // The interceptor runs before the method.
        let status = client.echo(num(1)).await.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.message(), "who are you?");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reading_a_frame_of_another_type_gets_invalid_argument() {
    bounded(async {
        // The client thinks `echo` answers a `Total`: a second service definition on the same
        // path, with other types.
        mod other {
            use super::*;
            service! {
                pub(crate) service Calc = "test.Calc" {
                    server Unused;
                    client WrongClient;
                    rpc echo(Num) returns (Total);
                }
            }
        }
        let mut wrong = other::WrongClient::connect(serve().await).await.unwrap();
        let status = wrong.echo(as_user(num(3))).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().contains("expected `calc.Total`")
                && status.message().contains("the frame holds a `calc.Num`"),
            "{status:?}"
        );
    })
    .await;
}
