"""Two bundle IDs (App IDs): an app and its widget extension.

Point it at the emulator (`make demo` does) or at a real account with
`pulumi config set appstoreconnect:keyId ...` (see README.md).
"""

import pulumi

from pulumi_appstoreconnect import BundleId

config = pulumi.Config()
prefix = config.get("identifierPrefix") or "com.example.skeleton"

app = BundleId(
    "app",
    identifier=f"{prefix}.app",
    platform="IOS",
    name=config.get("appName") or "Skeleton App",
)
widget = BundleId(
    "widget",
    identifier=f"{prefix}.app.widget",
    platform="IOS",
    name="Skeleton Widget",
)

pulumi.export("app_id", app.id)
pulumi.export("app_seed_id", app.seed_id)
pulumi.export("widget_id", widget.id)
