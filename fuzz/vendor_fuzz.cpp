// libFuzzer target for the vendor firmware headers (see format_fuzz.hpp): the first byte picks
// the format, the rest is its input. Seeds: tests/fixtures/make-vendor-headers.py's images with
// the format's index prepended.
#include "format_fuzz.hpp"

namespace {
constexpr const char* kIds[] = {"tplink",
                                "netgear_chk",
                                "seama",
                                "wrgg",
                                "xiaomi_hdr",
                                "broadcom_sao",
                                "bneg",
                                "tenvis_pk2",
                                "alphanetworks",
                                "dlink_encrpted_img",
                                "dlink_shrs",
                                "cybertan",
                                "realtek",
                                "huawei_hwnp",
                                "buffalo",
                                "grain_media",
                                "draytek",
                                "arcadyan",
                                "dlink_mh01",
                                "qnap",
                                "zynos",
                                "ambarella_romfs",
                                "maxlinear_uimage",
                                "bosch_fw",
                                "zyxel_ras",
                                "engenius"};
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  constexpr std::size_t n = sizeof(kIds) / sizeof(kIds[0]);
  return probity::fuzz::run_format(kIds[data[0] % n], data + 1, size - 1);
}
