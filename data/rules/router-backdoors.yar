// Known historical back doors in network equipment. Each rule cites its public source and
// carries a `sample` meta: a string that must make the rule fire (tests/unit/checks_yara_test.cpp
// plants every sample in a file and checks that its rule, and no other, matches; a clean Debian
// binary matches none). Add a rule: keep strings exact as published, cite the source, add a
// sample. `severity` defaults to critical.

rule DLink_xmlset_roodkcableoj28840ybtide
{
    meta:
        description = "D-Link alpha_auth_check user-agent authentication bypass (\"edit by 04882 joel backdoor\" reversed)"
        source = "https://www.devttys0.com/2013/10/reverse-engineering-a-d-link-backdoor/ ; CVE-2013-6026"
        sample = "xmlset_roodkcableoj28840ybtide"
    strings:
        $ua = "xmlset_roodkcableoj28840ybtide"
    condition:
        $ua
}

rule Netis_Netcore_UDP53413
{
    meta:
        description = "Netis/Netcore routers: igdmptd service on UDP 53413 with the hard-coded password netcore"
        source = "https://www.trendmicro.com/en_us/research/14/h/netis-routers-leave-wide-open-backdoor.html (Trend Micro, 2014-08-25)"
        sample = "igdmptd netcore"
    strings:
        $pw = "netcore" fullword
        $svc = "igdmptd"
    condition:
        $pw and $svc
}

rule Tenda_W302R_mfg
{
    meta:
        description = "Tenda W302R/W330R httpd MfgThread back door on UDP 7329 (w302r_mfg command prefix)"
        source = "https://www.devttys0.com/2013/10/from-china-with-love/ (devttys0, 2013-10-17)"
        sample = "w302r_mfg"
    strings:
        $mfg = "w302r_mfg"
    condition:
        $mfg
}

rule Zyxel_zyfwp_hardcoded_account
{
    meta:
        description = "Zyxel firewalls/AP controllers: undocumented admin account zyfwp with a hard-coded password"
        source = "https://www.eyecontrol.nl/blog/undocumented-user-account-in-zyxel-products.html ; CVE-2020-29583"
        sample = "zyfwp PrOw!aN_fXp"
    strings:
        $pw = "PrOw!aN_fXp"
        $user = "zyfwp" fullword
    condition:
        $pw or $user
}

rule Sercomm_ScMM_TCP32764
{
    meta:
        description = "Sercomm back door on TCP 32764 (Cisco/Linksys/Netgear/Diamond): scfgmgr with the ScMM/MMcS protocol magic"
        source = "https://github.com/elvanderb/TCP-32764 (Eloi Vanderbeken, 2013-12-31) ; CVE-2014-0659"
        sample = "/usr/sbin/scfgmgr ScMM MMcS"
    strings:
        $le = "ScMM"
        $be = "MMcS"
        $bin = "scfgmgr"
    condition:
        ($le or $be) and $bin
}

rule Juniper_ScreenOS_auth_backdoor
{
    meta:
        description = "Juniper ScreenOS SSH/telnet authentication back door password, disguised as a debug format string"
        source = "https://www.rapid7.com/blog/post/2015/12/20/cve-2015-7755-juniper-screenos-authentication-backdoor/ ; CVE-2015-7755"
        sample = "<<< %s(un='%s') = %u"
    strings:
        $pw = "<<< %s(un='%s') = %u"
    condition:
        $pw
}

rule Fortinet_FortiOS_SSH_backdoor
{
    meta:
        description = "FortiOS SSH undocumented interactive login (Fortimanager_Access) hard-coded challenge secret"
        source = "https://seclists.org/fulldisclosure/2016/Jan/26 ; CVE-2016-1909"
        sample = "FGTAbc11*xy+Qqz27"
    strings:
        $s = "FGTAbc11*xy+Qqz27"
    condition:
        $s
}

rule Zyxel_PK5001Z_su_password
{
    meta:
        description = "Zyxel PK5001Z hard-coded su password zyad5001"
        source = "https://nvd.nist.gov/vuln/detail/CVE-2016-10401 ; CVE-2016-10401"
        sample = "zyad5001"
    strings:
        $s = "zyad5001" fullword
    condition:
        $s
}

rule Hikvision_auth_bypass_magic
{
    meta:
        description = "Hikvision IP camera authentication bypass with the magic auth parameter YWRtaW46MTEK (admin:11)"
        source = "https://seclists.org/fulldisclosure/2017/Sep/23 (Monte Crypto) ; CVE-2017-7921 ; ICSA-17-124-01"
        sample = "auth=YWRtaW46MTEK"
    strings:
        $s = "YWRtaW46MTEK"
    condition:
        $s
}

rule Huawei_HG8245_telnet_root
{
    meta:
        description = "Huawei HG8245/HG8247 ONT: telnet root account with the fixed password admintelecom"
        source = "https://seclists.org/fulldisclosure/2013/Jun/7 ; ISP advisories on HG8245 telnet root"
        severity = "high"
        sample = "admintelecom"
    strings:
        $s = "admintelecom" fullword
    condition:
        $s
}

rule ZTE_telnet_root_Zte521
{
    meta:
        description = "ZTE routers/ONTs: telnet root password Zte521 (also in the Mirai credential list)"
        source = "https://github.com/jgamblin/Mirai-Source-Code/blob/master/mirai/bot/scanner.c (credential table)"
        severity = "high"
        sample = "Zte521"
    strings:
        $s = "Zte521" fullword
    condition:
        $s
}

rule Xiongmai_telnet_root_xmhdipc
{
    meta:
        description = "Xiongmai DVR/NVR/IP camera firmware: fixed telnet root passwords xmhdipc / xc3511 (Mirai)"
        source = "https://krebsonsecurity.com/2016/10/who-makes-the-iot-things-under-attack/ ; https://www.flashpoint-intel.com/blog/cybercrime/when-vulnerabilities-travel-downstream/"
        severity = "high"
        sample = "xmhdipc"
    strings:
        $a = "xmhdipc" fullword
        $b = "xc3511" fullword
    condition:
        $a or $b
}
