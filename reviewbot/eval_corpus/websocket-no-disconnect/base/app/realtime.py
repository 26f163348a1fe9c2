"""Real-time endpoints."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

router = APIRouter()


@router.websocket("/ws/ping")
async def ping(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("pong")
    await websocket.close()
