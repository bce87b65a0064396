//! The WebSocket behind a notification channel's `connectUri`: upgraded by axum, it sends
//! the frames the simulator pushes, answers pings, and closes for maintenance
//! (`v2.system.socket_closing` first) or drops without a word when told to.

use crate::notifications::{socket_closing_frame, SocketCmd};
use crate::reply::not_found;
use crate::Simulator;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

/// `GET /channels/{id}` with an upgrade: the channel's socket; an unknown channel is 404.
pub(crate) async fn stream(
    State(sim): State<Simulator>,
    Path(channel): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(commands) = sim.open_socket(&channel) else {
        return crate::reply::Reply(not_found()).into_response();
    };
    ws.on_upgrade(move |socket| run(socket, commands))
}

async fn run(mut socket: WebSocket, mut commands: tokio::sync::mpsc::UnboundedReceiver<SocketCmd>) {
    loop {
        tokio::select! {
            cmd = commands.recv() => match cmd {
                Some(SocketCmd::Frame(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Some(SocketCmd::Closing) => {
                    let _ = socket.send(Message::Text(socket_closing_frame().into())).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                // Dropped: no close frame, the TCP connection just goes.
                Some(SocketCmd::Drop) | None => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
