# scaat's optional native accelerator: an N-API addon over oneDNN (Debian/Ubuntu: libdnnl-dev).
# Built by scripts/build-native.mjs (npm's install step); never required: without it scaat runs
# on pure wasm. Set DNNL_ROOT to a oneDNN install prefix when it is not in the system paths.
{
  "variables": {
    "dnnl_root%": "<!(node -p \"process.env.DNNL_ROOT || ''\")"
  },
  "targets": [
    {
      "target_name": "scaat_native",
      "sources": ["src/addon.cc", "src/onednn_kernels.cc", "src/omp_kernels.cc", "src/bn_train.cc",
                  "src/elementwise.cc", "src/pooling.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp", "-fno-trapping-math", "-fno-math-errno"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "conditions": [
        ["dnnl_root!=''", {
          "include_dirs": ["<(dnnl_root)/include"],
          "libraries": ["-L<(dnnl_root)/lib", "-Wl,-rpath,<(dnnl_root)/lib"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "OTHER_CPLUSPLUSFLAGS": ["-Xpreprocessor", "-fopenmp"]
          }
        }]
      ]
    }
  ]
}
