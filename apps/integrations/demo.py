"""Demo integrations (`manage.py seed_demo`): each vendor's demo in its own module."""

from apps.integrations import demo_vendors


def seed_demo(stdout) -> None:
    demo_vendors.seed_demo(stdout)  # ParqEx and SmartphoneKey (issue 14)
