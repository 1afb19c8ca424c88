"""OpenStack Cyborg driver for FPGA cards owned by a vfiokit daemon.

Implements Cyborg's driver interface as Cyborg defines it (cyborg/accelerator/drivers/driver.py
GenericDriver: discover, update, get_stats; cyborg/accelerator/drivers/fpga/base.py FPGADriver:
discover, program) and reports cards the way Cyborg's own Intel FPGA driver does
(cyborg/accelerator/drivers/fpga/intel/sysinfo.py fpga_tree): one DriverDevice per card with a
PCI control path, one deployable (the PR region) with an attach handle for the PCI function, and
the attributes "rc" (FPGA) and trait0..N: CUSTOM_FPGA_INTEL, CUSTOM_FPGA_INTEL_<product>,
CUSTOM_FPGA_FUNCTION_ID_INTEL_<AFU id>, CUSTOM_FPGA_REGION_INTEL_<PR interface id>.

Cyborg loads it through the "cyborg.accelerator.driver" entry point "vfiokit_fpga_driver"
(``[agent] enabled_drivers = vfiokit_fpga_driver`` in cyborg.conf); the agent's fpga_program
finds it again by the deployables' driver_name, FPGADriver.create("vfiokit").

Cards are vfiokit ids: a PCI address is reported as itself. A card vfiokit reaches another way
(a vfio-user socket, the simulated card) has no PCI address on this host; it is reported only
when $VFIOKIT_CYBORG_PCI_ADDRESSES maps it ("sim:n3000=0000:5e:00.0,vfio-user:/run/c.sock=...").
"""
import json
import os
import re
import socket

from cyborg.accelerator.drivers.driver import GenericDriver
from cyborg.accelerator.drivers.fpga.base import FPGADriver
from cyborg.common import constants
from cyborg.objects.driver_objects import driver_attach_handle
from cyborg.objects.driver_objects import driver_attribute
from cyborg.objects.driver_objects import driver_controlpath_id
from cyborg.objects.driver_objects import driver_deployable
from cyborg.objects.driver_objects import driver_device
from oslo_log import log as logging

from vfiokit import fpga

LOG = logging.getLogger(__name__)

DRIVER_NAME = "vfiokit"
INTEL_VID = 0x8086
# Product names as the Intel driver's PRODUCT_MAP spells them (PAC_ARRIA10), for the N3000 family too.
PRODUCT_MAP = {0x09c4: "PAC_ARRIA10", 0x0b30: "PAC_N3000", 0x0b32: "PAC_N3000", 0x0b2b: "PAC_D5005"}
BDF = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$")
PROP_PCI, PROP_FME, PROP_PORT, PROP_BMC = 1, 2, 4, 8


def pci_str_to_json(bdf):
    """The control path / attach info JSON Cyborg uses (cyborg/accelerator/common/utils.py pci_str_to_json)."""
    dbs, func = bdf.split(".")
    domain, bus, slot = dbs.split(":")
    return json.dumps(dict(sorted({"domain": domain, "bus": bus, "device": slot, "function": func}.items())))


def guid_trait_part(guid):
    """A GUID as the Intel driver's traits carry it: the sysfs afu_id / interface_id hex, upper case."""
    if isinstance(guid, (bytes, bytearray)):
        guid = guid.hex()
    return re.sub(r"[^0-9A-Za-z]", "", str(guid)).upper()


def address_map():
    """$VFIOKIT_CYBORG_PCI_ADDRESSES: {vfiokit id: PCI address} for cards that are not local PCI functions."""
    out = {}
    for item in filter(None, (s.strip() for s in os.environ.get("VFIOKIT_CYBORG_PCI_ADDRESSES", "").split(","))):
        card, _, bdf = item.rpartition("=")
        if card and BDF.match(bdf):
            out[card] = bdf.lower()
        else:
            LOG.warning("VFIOKIT_CYBORG_PCI_ADDRESSES: %r is not ID=DDDD:BB:DD.F", item)
    return out


def _cpid_bdf(controlpath_id):
    """The PCI address in a control path id (an object, or a dict; cpid_info JSON text or a dict)."""
    get = controlpath_id.get if isinstance(controlpath_id, dict) else lambda k: getattr(controlpath_id, k)
    if get("cpid_type") != "PCI":
        raise ValueError("controlpath_id type %r is not PCI" % get("cpid_type"))
    info = get("cpid_info")
    if isinstance(info, str):
        info = json.loads(info)
    return "%s:%s:%s.%s" % (info["domain"], info["bus"], info["device"], info["function"])


class VfiokitFPGADriver(FPGADriver, GenericDriver):
    """Cyborg driver for FPGA cards managed by the vfiokit daemon."""

    VENDOR = DRIVER_NAME

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ready = False

    # ---- helpers ----

    def _init(self):
        if not self._ready:
            r = fpga.init_eal()
            if r < 0:
                raise RuntimeError("vfiokit daemon unavailable (%s); start `vfiokit daemon --socket ...` or set VFIOKIT_SOCKET" % os.strerror(-r))
            self._ready = True

    def _cards(self):
        """[(vfiokit id, PCI address)] of the Intel FPGA cards the daemon sees."""
        self._init()
        mapped = address_map()
        out = []
        for card in fpga.enumerate(vid=INTEL_VID) or []:
            bdf = card if BDF.match(card) else mapped.get(card)
            if bdf is None:
                LOG.debug("vfiokit card %s has no PCI address on this host; map it in VFIOKIT_CYBORG_PCI_ADDRESSES to report it", card)
                continue
            out.append((card, bdf))
        return out

    def _card_for(self, controlpath_id, what):
        """The vfiokit id of the card a control path names, or None (logged) when there is none."""
        try:
            bdf = _cpid_bdf(controlpath_id).lower()
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            LOG.error("vfiokit %s: bad controlpath_id %r: %s", what, controlpath_id, e)
            return None
        for card, b in self._cards():
            if b == bdf:
                return card
        LOG.error("vfiokit %s: no vfiokit card at PCI address %s", what, bdf)
        return None

    # ---- Cyborg's interface ----

    def discover(self):
        """DriverDevice objects, one per card (as Cyborg's Intel driver builds them)."""
        devices = []
        for card, bdf in self._cards():
            if fpga.probe(card) < 0:
                LOG.warning("vfiokit: cannot probe %s; not reported", card)
                continue
            prop = fpga.get_property(card)
            if prop is None:
                LOG.warning("vfiokit: no properties for %s; not reported", card)
                continue
            devices.append(self._device(card, bdf, prop))
        return devices

    def _device(self, card, bdf, prop):
        pci_id = prop["pci"]["id"]
        product = PRODUCT_MAP.get(pci_id["device_id"], "0X%04X" % pci_id["device_id"])
        dev = driver_device.DriverDevice()
        dev.vendor = "0x%04x" % pci_id["vendor_id"]
        dev.model = product
        dev.type = constants.DEVICE_FPGA
        dev.std_board_info = json.dumps({"product_id": "0x%04x" % pci_id["device_id"]})
        dev.vendor_board_info = json.dumps({"bmc_version": prop["bmc"]["bmc_version"], "firmware_version": prop["bmc"]["firmware_version"], "vfiokit_id": card})
        dev.stub = False
        cpid = driver_controlpath_id.DriverControlPathID()
        cpid.cpid_type = "PCI"
        cpid.cpid_info = pci_str_to_json(bdf)
        dev.controlpath_id = cpid

        traits = ["CUSTOM_FPGA_INTEL", "CUSTOM_FPGA_INTEL_" + product]
        traits += ["CUSTOM_FPGA_FUNCTION_ID_INTEL_" + guid_trait_part(p["afu_id"]) for p in prop["port"]]
        traits.append("CUSTOM_FPGA_REGION_INTEL_" + guid_trait_part(prop["fme"]["pr_id"]))
        attrs = [self._attribute("rc", constants.RESOURCES["FPGA"])]
        attrs += [self._attribute("trait%d" % i, t) for i, t in enumerate(traits)]

        dep = driver_deployable.DriverDeployable()
        dep.name = "_".join((socket.gethostname(), bdf))
        dep.driver_name = DRIVER_NAME
        dep.num_accelerators = 1
        dep.attribute_list = attrs
        ah = driver_attach_handle.DriverAttachHandle()
        ah.attach_type = constants.AH_TYPE_PCI
        ah.attach_info = pci_str_to_json(bdf)
        ah.in_use = False
        dep.attach_handle_list = [ah]
        dev.deployable_list = [dep]
        return dev

    @staticmethod
    def _attribute(key, value):
        a = driver_attribute.DriverAttribute()
        a.key, a.value = key, value
        return a

    def program(self, controlpath_id, image_file_path):
        """Load the AFU bitstream (GBS) into port 0 of the card. True on success, False on failure."""
        card = self._card_for(controlpath_id, "program")
        if card is None:
            return False
        r = fpga.pr(id=card, port=0, file=image_file_path)
        LOG.info("vfiokit program %s with %s: %d", card, image_file_path, r)
        return r == 0

    def update(self, control_path, image_path):
        """Update the card's flash (FPGA or BMC image, signed). True on success, False on failure."""
        card = self._card_for(control_path, "update")
        if card is None:
            return False
        r = fpga.flash(id=card, file=image_path)
        LOG.info("vfiokit flash %s with %s: %d", card, image_path, r)
        return r == 0

    def get_stats(self):
        """Per card (by PCI address): flash update status, BMC/firmware versions, AFUs, retimer links."""
        stats = {}
        for card, bdf in self._cards():
            prop = fpga.get_property(card, PROP_FME | PROP_PORT | PROP_BMC) or {}
            stats[bdf] = {
                "vfiokit_id": card,
                "flash_status": fpga.get_status(card),
                "bmc": prop.get("bmc"),
                "afu_ids": [p["afu_id"] for p in prop.get("port", [])],
                "phy": fpga.get_phy_info(card),
            }
        return stats
