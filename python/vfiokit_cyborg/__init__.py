"""OpenStack Cyborg accelerator driver for cards managed by vfiokit (see vfiokit_cyborg.driver)."""
