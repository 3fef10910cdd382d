//! A function over DynamoDB written the usual way, the second baseline of
//! the benchmarks: `cargo lambda new`'s main (its default log subscriber),
//! `aws_config::load_defaults`, a client with the SDK's default HTTPS
//! stack, one GetItem per request of the key in its query
//! (`?pk=..&sk=..`, in the table `SKOLNAV_TABLE`), the item answered as
//! JSON through serde_dynamo. No authentication, no warm-up read in init:
//! what Skolnav's functions do beyond it is what they are compared on.

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};

async fn get_item(client: &Client, table: &str, req: Request) -> Result<Response<Body>, Error> {
    let query = req.query_string_parameters();
    let (Some(pk), Some(sk)) = (query.first("pk"), query.first("sk")) else {
        return Ok(Response::builder()
            .status(400)
            .body(Body::from("pk and sk"))?);
    };
    let out = client
        .get_item()
        .table_name(table)
        .key("PK", AttributeValue::S(pk.to_string()))
        .key("SK", AttributeValue::S(sk.to_string()))
        .send()
        .await?;
    let Some(item) = out.item else {
        return Ok(Response::builder().status(404).body(Body::Empty)?);
    };
    let json: serde_json::Value = serde_dynamo::from_item(item)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from(json.to_string()))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = Client::new(&config);
    let table = std::env::var("SKOLNAV_TABLE")?;
    lambda_http::run(service_fn(|req| get_item(&client, &table, req))).await
}
