//! Hello world on lambda_http: what every Skolnav function is measured
//! against (cold start, memory, size).

use lambda_http::{Body, Error, Request, Response, service_fn};

async fn hello(_req: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(Body::from("hello"))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(hello)).await
}
