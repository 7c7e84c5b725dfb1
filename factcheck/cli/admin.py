"""factcheck model info, config show, serve and cache: the tool itself."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..config.settings import config_file, resolve_with_sources
from ..model.loader import model_identity
from ..model.serve import serve as run_server
from ..pipeline import configure
from ..profiles.profile import Profile, load_profile
from ..runs.cache import ResultCache
from .app import app, command_group, load_model, resolve_settings, say
from .options import MODEL_OPTIONS, setting_options
from .render import print_model_info, print_settings

model_app = command_group("model", "Inspect the model.")


@model_app.command("info")
@setting_options("labels", "profile", *MODEL_OPTIONS)
def model_info(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False, *, flags: dict,
) -> None:
    """Show the model: path, size, SHA-256, chat template, context length, and the profile it uses
    for the label set, with its risk-coverage curve (what --target-accuracy reads)."""

    settings, profile = configure(resolve_settings(flags))
    print_model_info(load_model(settings).info, json_out=json_out, profile=profile)



config_app = command_group("config", "Show the settings in force.")


@config_app.command("show")
@setting_options("labels", "model", "api_base", "api_key", "api_model", "profile", "config")
def config_show(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False, *, flags: dict,
) -> None:
    """Print every setting, its value and where it came from (option, environment, config file, profile, default)."""

    settings, sources = resolve_with_sources({k: v for k, v in flags.items() if k != "config"}, flags["config"])
    # showing settings hashes no model file and asks no server: a profile found only by
    # doing so is named when the model loads (factcheck model info)
    identity = model_identity(settings, look=False)
    profile = load_profile(settings, identity) if identity or settings.profile else Profile()
    origin = f"profile {profile.path} [{settings.labels.value}]"
    sources = {**sources, **{k: origin for k in profile.settings if sources[k] == "default"}}
    found = profile.path or ("not known until the model loads (factcheck model info names it)"
                             if identity is None else None)
    files = {"config file": config_file(flags["config"]), "profile": found}
    print_settings(profile.apply(settings), sources, json_out=json_out, files=files, fitted=profile.fitted,
                   fitted_source=origin)



@app.command()
@setting_options("model", "gpu_layers", "threads", "ctx", "config")
def serve(
    host: Annotated[str, typer.Option("--host", metavar="ADDRESS", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", metavar="PORT", min=1, max=65535, help="Port to listen on.")] = 8080,
    api_key: Annotated[Optional[str], typer.Option("--api-key", metavar="KEY", envvar="FACTCHECK_API_KEY", show_envvar=False, show_default=False, help="Answer only clients that send this key (their --api-key). Env FACTCHECK_API_KEY.")] = None,
    *, flags: dict,
) -> None:
    """Serve the model to factcheck in other processes or on other machines (--api-base URL):
    the same verdicts as in process, with llama-server's API."""

    run_server(resolve_settings(flags), host=host, port=port, api_key=api_key)



cache_app = command_group("cache", "Inspect or clear the result cache.")


@cache_app.command("info")
def cache_info(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show where the result cache is, how many results it holds and its size."""
    import json

    info = ResultCache().info()
    if json_out:
        print(json.dumps(info))
        return
    megabytes = lambda n: f"{n / 2**20:,.1f} MB"  # noqa: E731
    print(f"results: {info['entries']} in {info['path']} ({megabytes(info['bytes'])}, integrity {info['integrity']})")
    for name, what in (("models", "the assembled default model"), ("samples", "calibration samples"),
                       ("calibration-indexes", "calibration indexes"), ("web", "web responses")):
        print(f"{what}: {megabytes(info[name + '_bytes'])}")
    print(f"ZIM searches: {info['zim_searches']} ({megabytes(info['zim_bytes'])}, kept by archive UUID)")
    print("(factcheck cache clear empties the results; the other folders can be deleted by hand)")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached result."""

    removed = ResultCache().clear()
    say("removed", "", f"{removed} cached results")
