{
  "targets": [
    {
      "target_name": "ixy_pci",
      "sources": ["native/vfio.cc"],
      "include_dirs": [
        "<!(node -p \"const fs = require('fs'), path = require('path'); require.resolve.paths('@ixy/memory').map(function (d) { return path.join(d, '@ixy', 'memory', 'native'); }).find(function (d) { return fs.existsSync(path.join(d, 'ixy-native.h')); })\")"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-march=x86-64", "-O2", "-Wall"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
