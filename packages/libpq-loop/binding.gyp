{
  "targets": [
    {
      "target_name": "stb_libpq_loop",
      "sources": ["src/loop.cc"],
      "include_dirs": ["<!@(pg_config --includedir)"],
      "libraries": ["-L<!@(pg_config --libdir)", "-lpq"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
