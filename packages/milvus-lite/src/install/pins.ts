// sha256 of milvus-lite wheels, copied from PyPI's simple index (https://pypi.org/simple/milvus-lite/, the
// #sha256= fragment of each link) on 2026-12-06. A wheel named here whose bytes hash otherwise is refused.
// Add a version by copying its four lines from that page; leave out what you have not checked.

/** wheel file name → sha256 (hex), for the milvus-lite versions leasehold knows. */
export const kPinnedWheelSha256: Readonly<Record<string, string>> = {
  'milvus_lite-2.4.12-py3-none-macosx_10_9_x86_64.whl': 'e8d4f7cdd5f731efd6faeee3715d280fd91a5f9b4d89312664d56401f65b1473',
  'milvus_lite-2.4.12-py3-none-macosx_11_0_arm64.whl': '20087663e7b4385050b7ad08f1f03404426d4c87b1ff91d5a8723eee7fd49e88',
  'milvus_lite-2.4.12-py3-none-manylinux2014_aarch64.whl': 'a0f3a5ddbfd19f4a6b842b2fd3445693c796cde272b701a1646a94c1ac45d3d7',
  'milvus_lite-2.4.12-py3-none-manylinux2014_x86_64.whl': '334037ebbab60243b5d8b43d54ca2f835d81d48c3cda0c6a462605e588deb05d',
  'milvus_lite-2.5.0-py3-none-macosx_10_9_x86_64.whl': '42c48e8ea0606b779961e575f92d4850954c3279e5f67ff0c08debe48dbc474d',
  'milvus_lite-2.5.0-py3-none-macosx_11_0_arm64.whl': '7de22d8f9fa73603636b4ddfd0692ac6305d20d819faeb24c4eb5ba90fb5c164',
  'milvus_lite-2.5.0-py3-none-manylinux2014_aarch64.whl': '5a0bdf72403fceb5cb07573293befaafed4fe2d2c0ec6d97701d8de2d1f60de2',
  'milvus_lite-2.5.0-py3-none-manylinux2014_x86_64.whl': '1dda4a5b96067ddfb1cd929801a42c0d79759c53fb5d3f7c472bd65dce72f138',
  'milvus_lite-2.5.1-py3-none-macosx_10_9_x86_64.whl': '6b014453200ba977be37ba660cb2d021030375fa6a35bc53c2e1d92980a0c512',
  'milvus_lite-2.5.1-py3-none-macosx_11_0_arm64.whl': 'a2e031088bf308afe5f8567850412d618cfb05a65238ed1a6117f60decccc95a',
  'milvus_lite-2.5.1-py3-none-manylinux2014_aarch64.whl': 'a13277e9bacc6933dea172e42231f7e6135bd3bdb073dd2688ee180418abd8d9',
  'milvus_lite-2.5.1-py3-none-manylinux2014_x86_64.whl': '25ce13f4b8d46876dd2b7ac8563d7d8306da7ff3999bb0d14b116b30f71d706c',
};
