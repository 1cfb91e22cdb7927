"""``everest-elearn serve``: run the Data Agency."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str | None = typer.Option(None, help="Address to bind (default 127.0.0.1)."),
        port: int | None = typer.Option(None, help="Port to listen on (default 8000)."),
        reload: bool = typer.Option(False, help="Restart when the code changes (development)."),
    ) -> None:
        """Start the Data Agency (catalogue, gateway, packages API) on the configured backends."""
        import uvicorn

        from everest_elearn.api.long_uri import LongUriHttpToolsProtocol
        from everest_elearn.settings import load_settings

        settings = load_settings()
        bind_host = host or settings.api.host
        bind_port = port or settings.api.port
        typer.echo(
            f"Data Agency on http://{bind_host}:{bind_port} "
            f"(catalogue: {settings.catalogue.backend}, data: {settings.data_dir})"
        )
        uvicorn.run(
            "everest_elearn.api.app:create_app",
            factory=True,
            host=bind_host,
            port=bind_port,
            reload=reload,
            http=LongUriHttpToolsProtocol,  # 414, not 400, past httptools' 64 KiB URL limit
            log_level=settings.log_level.lower(),
        )
