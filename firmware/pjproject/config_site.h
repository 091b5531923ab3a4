/*
 * ClinicBox's pjproject build configuration (pjproject 2.12.1 from Debian's
 * ring source; dev, CI and the arm64 image alike).
 * Copied to pjlib/include/pj/config_site.h by build-pjproject.sh.
 *
 * The stock PyPI wheel caps PJSUA2 at a handful of calls; a clinic box runs
 * an IVR, a queue with music on hold and recorded prompts for up to 100+
 * callers at once, plus agent legs. Everything that scales with calls is
 * raised together, and select() is replaced by epoll (configure
 * --enable-epoll) so the socket count is not bound by FD_SETSIZE.
 */
#ifndef CLINICBOX_CONFIG_SITE_H
#define CLINICBOX_CONFIG_SITE_H

/* Calls and the media ports they use. */
#define PJSUA_MAX_CALLS                 256
#define PJSUA_MAX_ACC                   16
/* One prompt player per call plus one per music source (switchboard/budget.py). */
#define PJSUA_MAX_PLAYERS               272
#define PJSUA_MAX_RECORDERS             256
/* The default bridge size; the core sizes it from its media budget:
 * 1 + calls + players + captures = 1 + 256 + 272 + 256 = 785. */
#define PJSUA_MAX_CONF_PORTS            1040
#define PJSUA_MAX_BUDDIES               8

/* Two sockets (RTP, RTCP) per call, SIP transports, the control plane. */
#define PJ_IOQUEUE_MAX_HANDLES          2048
#define PJ_IOQUEUE_MAX_EVENTS_IN_SINGLE_POLL 64

/* SIP transactions and dialogs for 256 calls with re-INVITEs and OPTIONS. */
#define PJSIP_MAX_TSX_COUNT             4095
#define PJSIP_MAX_DIALOG_COUNT          4095

/* TLS to the provider (OpenSSL) and SRTP. */
#define PJ_HAS_SSL_SOCK                 1
#define PJ_SSL_SOCK_IMP                 PJ_SSL_SOCK_IMP_OPENSSL
#define PJMEDIA_HAS_SRTP                1

/* Audio: ALSA only (USB headsets, the modem's USB audio); no video. */
#define PJMEDIA_AUDIO_DEV_HAS_ALSA      1
#define PJMEDIA_AUDIO_DEV_HAS_PORTAUDIO 0
#define PJMEDIA_HAS_VIDEO               0

/* Telephony-band codecs the clinic uses; no wideband resampling cost. */
#define PJMEDIA_HAS_G711_CODEC          1
#define PJMEDIA_HAS_G722_CODEC          1
#define PJMEDIA_HAS_L16_CODEC           0
#define PJMEDIA_HAS_ILBC_CODEC          0

/* A release build: full logging available to the wire-trace logger. */
#define PJ_LOG_MAX_LEVEL                5
#define PJ_ENABLE_EXTRA_CHECK           1

#endif /* CLINICBOX_CONFIG_SITE_H */
