{
  "targets": [
    {
      "target_name": "vfiokit_shim",
      "sources": ["<!@(ls -1 *.c *.cc 2>/dev/null)"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=gnu++17", "-Wno-cast-function-type"]
    }
  ]
}
