"""The vfiokit Cyborg driver judged by OpenStack Cyborg's own code (Debian's python3-cyborg).

Runs inside the trixie chroot (scripts/trixie/cyborg-test.sh), talking over the bind-mounted
socket to a vfiokit daemon on the host that serves a simulated N3000 card, mapped to a PCI address
with VFIOKIT_CYBORG_PCI_ADDRESSES. What Cyborg's classes check:
  - stevedore finds the "cyborg.accelerator.driver" entry point, and the agent's own
    ResourceTracker._initialize_drivers loads it (cyborg/agent/resource_tracker.py);
  - the agent's fpga_program finds it again with FPGADriver.create(driver_name) (agent/manager.py);
  - it is a GenericDriver (abstract discover/update/get_stats all implemented) and an FPGADriver;
  - discover() returns DriverDevice objects whose fields pass oslo.versionedobjects' coercion,
    survive obj_to_primitive/obj_from_primitive, and equal what Cyborg's Intel FPGA driver builds
    (cyborg/accelerator/drivers/fpga/intel/sysinfo.py _generate_driver_device) from the same facts;
  - control path / attach info are Cyborg's own pci_str_to_json; traits are what the conductor
    reports to Placement (conductor/manager.py get_placement_needed_info_and_report: attributes
    named trait*) and valid custom trait names.
"""
import json
import os
import re
import socket
import unittest

from cyborg.accelerator.common import utils as cyborg_utils
from cyborg.accelerator.drivers.driver import GenericDriver
from cyborg.accelerator.drivers.fpga.base import FPGADriver
from cyborg.accelerator.drivers.fpga.intel import sysinfo as intel_sysinfo
from cyborg.agent.resource_tracker import ResourceTracker
from cyborg.common import constants
from cyborg import objects as cyborg_objects
from cyborg.objects.driver_objects import driver_device
from stevedore import ExtensionManager

cyborg_objects.register_all()


def _ordered(primitive):
    """obj_to_primitive with its "<namespace>.changes" lists sorted.

    oslo.versionedobjects' VersionedObject.obj_to_primitive (oslo_versionedobjects/base.py) writes
    list(self.obj_what_changed()), a set, so the order of that list follows string hashing
    (PYTHONHASHSEED) and is not part of what the object says."""
    if isinstance(primitive, dict):
        return {k: sorted(v) if k.endswith(".changes") and isinstance(v, list) else _ordered(v)
                for k, v in primitive.items()}
    if isinstance(primitive, list):
        return [_ordered(v) for v in primitive]
    return primitive

ENTRY_POINT = "vfiokit_fpga_driver"
BDF = os.environ.get("VFIOKIT_TEST_BDF", "0000:5e:00.0")
GBS = os.environ["VFIOKIT_TEST_GBS"]
IMAGE = os.environ["VFIOKIT_TEST_IMAGE"]
AFU = os.environ["VFIOKIT_TEST_AFU"]
# Placement's rule for custom traits (placement/schemas/trait.py CUSTOM_TRAIT: ^CUSTOM_[A-Z0-9_]+$, 255 max).
CUSTOM_TRAIT = re.compile(r"^CUSTOM_[A-Z0-9_]+$")


def load_through_cyborg():
    rt = ResourceTracker.__new__(ResourceTracker)  # the real loader, without an RPC conductor
    rt._initialize_drivers(enabled_drivers=[ENTRY_POINT])
    return rt.acc_drivers[0]


class CyborgDriverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.driver = load_through_cyborg()

    def cpid(self):
        return {"cpid_type": "PCI", "cpid_info": cyborg_utils.pci_str_to_json(BDF)}

    def test_entry_point_and_class_hierarchy(self):
        self.assertIn(ENTRY_POINT, ExtensionManager(namespace="cyborg.accelerator.driver").names())
        self.assertIsInstance(self.driver, GenericDriver)
        self.assertIsInstance(self.driver, FPGADriver)
        self.assertIs(type(FPGADriver.create("vfiokit")), type(self.driver))

    def test_discover_returns_valid_driver_devices(self):
        devs = self.driver.discover()
        self.assertEqual(len(devs), 1, devs)
        dev = devs[0]
        self.assertIsInstance(dev, driver_device.DriverDevice)
        for name, field in dev.fields.items():
            if not field.nullable:
                self.assertTrue(dev.obj_attr_is_set(name), name)
        self.assertIn(dev.type, constants.DEVICE_TYPE)
        self.assertEqual(dev.controlpath_id.cpid_type, "PCI")
        self.assertEqual(dev.controlpath_id.cpid_info, cyborg_utils.pci_str_to_json(BDF))
        prim = dev.obj_to_primitive()
        back = driver_device.DriverDevice.obj_from_primitive(prim)
        self.assertEqual(_ordered(back.obj_to_primitive()), _ordered(prim))
        json.dumps(prim)  # what goes over Cyborg's RPC to the conductor
        dep = dev.deployable_list[0]
        self.assertEqual(dep.driver_name, "vfiokit")
        self.assertEqual(dep.num_accelerators, 1)
        ah = dep.attach_handle_list[0]
        self.assertIn(ah.attach_type, constants.ATTACH_HANDLE_TYPES)
        self.assertEqual(ah.attach_info, cyborg_utils.pci_str_to_json(BDF))
        self.assertFalse(ah.in_use)

    def test_traits_as_the_conductor_reports_them(self):
        dep = self.driver.discover()[0].deployable_list[0]
        attrs = dep.attribute_list
        rc = [a.value for a in attrs if a.key == "rc"]
        self.assertEqual(rc, [constants.RESOURCES["FPGA"]])
        traits = [a.value for a in attrs if str(a.key).startswith("trait")]
        for t in traits:
            self.assertRegex(t, CUSTOM_TRAIT)
            self.assertLessEqual(len(t), 255)
        self.assertIn("CUSTOM_FPGA_INTEL", traits)
        self.assertIn("CUSTOM_FPGA_INTEL_PAC_N3000", traits)
        self.assertTrue(any(t.startswith("CUSTOM_FPGA_FUNCTION_ID_INTEL_") for t in traits))
        self.assertTrue(any(t.startswith("CUSTOM_FPGA_REGION_INTEL_") for t in traits))

    def test_same_object_as_cyborgs_intel_driver_builds(self):
        dev = self.driver.discover()[0]
        dep = dev.deployable_list[0]
        facts = {
            "vendor": dev.vendor, "stub": False, "type": constants.DEVICE_FPGA, "devices": BDF,
            "name": "_".join((socket.gethostname(), BDF)), "product_id": json.loads(dev.std_board_info)["product_id"],
            "model": dev.model, "vendor_board_info": dev.vendor_board_info, "rc": constants.RESOURCES["FPGA"],
            "traits": [a.value for a in dep.attribute_list if a.key.startswith("trait")],
        }
        intel = intel_sysinfo._generate_driver_device(facts, False)
        intel.deployable_list[0].driver_name = "vfiokit"
        self.assertEqual(_ordered(intel.obj_to_primitive()), _ordered(dev.obj_to_primitive()))

    def test_program_loads_the_bitstream_and_discover_shows_the_new_afu(self):
        self.assertTrue(self.driver.program(self.cpid(), GBS))
        traits = [a.value for a in self.driver.discover()[0].deployable_list[0].attribute_list]
        self.assertIn("CUSTOM_FPGA_FUNCTION_ID_INTEL_" + AFU.replace("-", "").upper(), traits)
        other = {"cpid_type": "PCI", "cpid_info": cyborg_utils.pci_str_to_json("0000:99:00.0")}
        self.assertFalse(self.driver.program(other, GBS))
        self.assertFalse(self.driver.program({"cpid_type": "MDEV", "cpid_info": "{}"}, GBS))

    def test_update_flashes_and_get_stats_reports(self):
        self.assertTrue(self.driver.update(self.cpid(), IMAGE))
        stats = self.driver.get_stats()
        # DONE: DPDK's IDLE (0) at progress 100 (rte_pmd_ifpga.h status numbers)
        self.assertEqual((stats[BDF]["flash_status"]["status"], stats[BDF]["flash_status"]["progress"]), (0, 100))
        self.assertIn("bmc_version", stats[BDF]["bmc"])
        self.assertGreater(stats[BDF]["phy"]["num_retimers"], 0)


if __name__ == "__main__":
    unittest.main()
