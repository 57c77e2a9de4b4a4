"""What a deploy asks for, made concrete and checked before anything changes: the model version (a local
bundle, or fetched from the registry) verified against what training exported, and the release's images
(present, built from this checkout, or pulled by tag)."""

from __future__ import annotations

from deploy import bundles
from deploy.context import Context
from deploy.images import ensure_release_images
from deploy.release import Release, checkout_tag, release_images, short
from deploy.settings import MODEL_NAME

LATEST = "latest"


def resolve_model(ctx: Context, reference: str | None) -> tuple[str, str]:
    """(version, digest) of the model a deploy asks for: `latest` (the newest local bundle, by default), a
    version number or a registry alias. A version this machine lacks is fetched from the registry; every
    bundle is checked against what training exported and recorded before it is used."""
    registry = ctx.model_registry()
    registry.require()
    imported = registry.sync(ctx.settings.BUNDLES_DIR)
    if imported:
        ctx.say(f"  registry: imported the local bundles it lacked: {', '.join('v' + v for v in imported)}")
    reference = reference or LATEST
    if reference == LATEST:
        version = bundles.newest(ctx.settings.BUNDLES_DIR, MODEL_NAME)
    else:
        version = registry.version_of(reference)
    registered = registry.digest(version)
    bundle = ctx.settings.BUNDLES_DIR / MODEL_NAME / version
    if not (bundle / bundles.METADATA_FILE).is_file():
        ctx.say(f"  fetching the bundle of v{version} from the registry")
        registry.fetch_bundle(version, bundle)
    digest = bundles.verify(bundle, version, registered)
    bundles.require(ctx.settings.BUNDLES_DIR, MODEL_NAME, version)
    return version, digest


def plan_release(ctx: Context, tag: str | None, model: str | None) -> Release:
    """The release a deploy asks for, its images present (built or pulled) and its model checked."""
    checkout, dirty = checkout_tag(ctx.settings.root)
    tag = tag or checkout
    if dirty and tag == checkout:
        ctx.say(f"  WARNING: the checkout has uncommitted changes; the release is tagged {short(tag)}")
    refs = release_images(tag, ctx.settings.REGISTRY)
    ctx.say(f"  [1/4] model: {model or LATEST}")
    version, digest = resolve_model(ctx, model)
    ctx.say(f"        v{version}, bundle digest {digest[:12]} matches the registry")
    ctx.say(f"  [2/4] images of {short(tag)}")
    how = ensure_release_images(ctx.images, ctx.compose(), refs, tag, checkout, ctx.settings.REGISTRY, ctx.say)
    ctx.say(f"        {how}: {', '.join(refs.values())}")
    return Release(tag, refs, version, digest)
