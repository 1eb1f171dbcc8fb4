{
  "targets": [
    {
      "target_name": "ixy_pci",
      "sources": ["native/vfio.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-march=x86-64", "-O2", "-Wall"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
