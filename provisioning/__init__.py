"""USB-stick provisioning: a signed bundle validated, applied atomically, reported.

The flow (see the README's appliance section): read the bundle from the
stick into a private copy, check the Ed25519 signature over the manifest
of SHA-256 digests against the installer keys baked into the image,
validate every file and the configuration with the box's own rules, then
apply: stage, swap, restart only what changed, and write a report back to
the stick. Nothing on the stick is ever executed or sourced.
"""
