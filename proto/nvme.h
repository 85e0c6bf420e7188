/* SPDX-License-Identifier: MIT */
/*
 * NVMe base specification 2.0 and NVMe over Fabrics wire structures:
 * submission/completion queue entries, SGL descriptors, status codes,
 * admin/I/O/fabrics opcodes, Identify and log page layouts.
 * No I/O and no allocation here.
 */
#ifndef ZNST_PROTO_NVME_H
#define ZNST_PROTO_NVME_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/byteorder.h"

#define NVME_DISC_NQN		"nqn.2014-08.org.nvmexpress.discovery"
#define NVME_NQN_SIZE		256
#define NVME_NSID_BROADCAST	0xffffffffu

/* ---- Status: a 15-bit value, (DNR << 14) | (SCT << 8) | SC ---------------
 * This is the CQE status field shifted right by one (the phase bit is the
 * transport's business).  errno values never travel in this type.
 */
typedef uint16_t nvme_status;

enum nvme_sct {
	NVME_SCT_GENERIC	= 0x0,
	NVME_SCT_CMD_SPECIFIC	= 0x1,
	NVME_SCT_MEDIA		= 0x2,
	NVME_SCT_PATH		= 0x3,
};

#define NVME_SC(sct, sc)	((nvme_status)(((sct) << 8) | (sc)))
#define NVME_STATUS_DNR		((nvme_status)0x4000)
#define NVME_STATUS_SCT(s)	(((s) >> 8) & 0x7)
#define NVME_STATUS_SC(s)	((s) & 0xff)

enum {
	NVME_SC_SUCCESS			= NVME_SC(0, 0x00),
	NVME_SC_INVALID_OPCODE		= NVME_SC(0, 0x01),
	NVME_SC_INVALID_FIELD		= NVME_SC(0, 0x02),
	NVME_SC_CMDID_CONFLICT		= NVME_SC(0, 0x03),
	NVME_SC_DATA_XFER_ERROR		= NVME_SC(0, 0x04),
	NVME_SC_INTERNAL		= NVME_SC(0, 0x06),
	NVME_SC_ABORT_REQ		= NVME_SC(0, 0x07),
	NVME_SC_ABORT_QUEUE		= NVME_SC(0, 0x08),
	NVME_SC_INVALID_NS		= NVME_SC(0, 0x0b),
	NVME_SC_CMD_SEQ_ERROR		= NVME_SC(0, 0x0c),
	NVME_SC_SGL_INVALID_LAST	= NVME_SC(0, 0x0d),
	NVME_SC_SGL_INVALID_COUNT	= NVME_SC(0, 0x0e),
	NVME_SC_SGL_INVALID_DATA	= NVME_SC(0, 0x0f),	/* Data SGL Length Invalid */
	NVME_SC_SGL_INVALID_TYPE	= NVME_SC(0, 0x11),
	NVME_SC_SGL_INVALID_OFFSET	= NVME_SC(0, 0x16),	/* 17h is reserved */
	NVME_SC_HOST_ID_INCONSIST	= NVME_SC(0, 0x19),
	NVME_SC_KA_TIMEOUT_EXPIRED	= NVME_SC(0, 0x1a),
	NVME_SC_KA_TIMEOUT_INVALID	= NVME_SC(0, 0x1b),
	NVME_SC_LBA_RANGE		= NVME_SC(0, 0x80),
	NVME_SC_CAP_EXCEEDED		= NVME_SC(0, 0x81),
	NVME_SC_NS_NOT_READY		= NVME_SC(0, 0x82),

	NVME_SC_CQ_INVALID		= NVME_SC(1, 0x00),
	NVME_SC_QID_INVALID		= NVME_SC(1, 0x01),
	NVME_SC_QUEUE_SIZE		= NVME_SC(1, 0x02),
	NVME_SC_ASYNC_LIMIT		= NVME_SC(1, 0x05),
	NVME_SC_INVALID_LOG_PAGE	= NVME_SC(1, 0x09),
	NVME_SC_FEATURE_NOT_SAVEABLE	= NVME_SC(1, 0x0d),
	NVME_SC_FEATURE_NOT_CHANGEABLE	= NVME_SC(1, 0x0e),
	NVME_SC_FEATURE_NOT_PER_NS	= NVME_SC(1, 0x0f),
	NVME_SC_CONNECT_FORMAT		= NVME_SC(1, 0x80),
	NVME_SC_CONNECT_CTRL_BUSY	= NVME_SC(1, 0x81),
	NVME_SC_CONNECT_INVALID_PARAM	= NVME_SC(1, 0x82),
	NVME_SC_CONNECT_RESTART_DISC	= NVME_SC(1, 0x83),
	NVME_SC_CONNECT_INVALID_HOST	= NVME_SC(1, 0x84),
	/* NVM command set: Copy above MSSRL / MCL */
	NVME_SC_CMD_SIZE_LIMIT		= NVME_SC(1, 0x83),

	/* ZNS command set 1.1, figure "Zoned Namespace Command Set status" */
	NVME_SC_ZONE_INVALID_FORMAT	= NVME_SC(1, 0x7f),
	NVME_SC_ZONE_INVALID_OP		= NVME_SC(1, 0xb6),
	NVME_SC_ZONE_ZRWA_UNAVAIL	= NVME_SC(1, 0xb7),
	NVME_SC_ZONE_BOUNDARY		= NVME_SC(1, 0xb8),
	NVME_SC_ZONE_FULL		= NVME_SC(1, 0xb9),
	NVME_SC_ZONE_READ_ONLY		= NVME_SC(1, 0xba),
	NVME_SC_ZONE_OFFLINE		= NVME_SC(1, 0xbb),
	NVME_SC_ZONE_INVALID_WRITE	= NVME_SC(1, 0xbc),
	NVME_SC_ZONE_TOO_MANY_ACTIVE	= NVME_SC(1, 0xbd),
	NVME_SC_ZONE_TOO_MANY_OPEN	= NVME_SC(1, 0xbe),
	NVME_SC_ZONE_INVALID_TRANSITION	= NVME_SC(1, 0xbf),

	NVME_SC_WRITE_FAULT		= NVME_SC(2, 0x80),
	NVME_SC_READ_ERROR		= NVME_SC(2, 0x81),
	NVME_SC_COMPARE_FAILED		= NVME_SC(2, 0x85),
};

/* ---- Opcodes ------------------------------------------------------------ */
enum nvme_admin_opcode {
	NVME_ADMIN_GET_LOG_PAGE		= 0x02,
	NVME_ADMIN_IDENTIFY		= 0x06,
	NVME_ADMIN_ABORT		= 0x08,
	NVME_ADMIN_SET_FEATURES		= 0x09,
	NVME_ADMIN_GET_FEATURES		= 0x0a,
	NVME_ADMIN_ASYNC_EVENT		= 0x0c,
	NVME_ADMIN_KEEP_ALIVE		= 0x18,
	NVME_ADMIN_FABRICS		= 0x7f,
};

enum nvme_io_opcode {
	NVME_CMD_FLUSH			= 0x00,
	NVME_CMD_WRITE			= 0x01,
	NVME_CMD_READ			= 0x02,
	NVME_CMD_COMPARE		= 0x05,
	NVME_CMD_WRITE_ZEROES		= 0x08,
	NVME_CMD_DSM			= 0x09,
	NVME_CMD_VERIFY			= 0x0c,
	NVME_CMD_COPY			= 0x19,
	NVME_CMD_FABRICS		= 0x7f,
	NVME_CMD_ZONE_MGMT_SEND		= 0x79,
	NVME_CMD_ZONE_MGMT_RECV		= 0x7a,
	NVME_CMD_ZONE_APPEND		= 0x7d,
};

enum nvmf_fabrics_type {
	NVMF_TYPE_PROPERTY_SET		= 0x00,
	NVMF_TYPE_CONNECT		= 0x01,
	NVMF_TYPE_PROPERTY_GET		= 0x04,
	NVMF_TYPE_AUTH_SEND		= 0x05,
	NVMF_TYPE_AUTH_RECV		= 0x06,
	NVMF_TYPE_DISCONNECT		= 0x08,
};

/* ---- SGL descriptor (16 bytes) -------------------------------------------- */
struct nvme_sgl_desc {
	le64		addr;
	le32		length;
	uint8_t		rsvd12[3];
	uint8_t		type;		/* (descriptor type << 4) | subtype */
};
static_assert(sizeof(struct nvme_sgl_desc) == 16, "SGL descriptor");

enum {
	NVME_SGL_FMT_DATA_DESC		= 0x00,
	NVME_SGL_FMT_OFFSET		= 0x01,
	NVME_SGL_FMT_TRANSPORT_A	= 0x0a,
	NVME_SGL_TYPE_DATA_BLOCK	= 0x0,
	NVME_SGL_TYPE_TRANSPORT		= 0x5,
	/* NVMe/TCP: in-capsule data, and data moved by R2T / C2HData */
	NVME_SGL_INCAPSULE		= (NVME_SGL_TYPE_DATA_BLOCK << 4) | NVME_SGL_FMT_OFFSET,
	NVME_SGL_TRANSPORT_DATA		= (NVME_SGL_TYPE_TRANSPORT << 4) | NVME_SGL_FMT_TRANSPORT_A,
};

/* ---- Submission queue entry ------------------------------------------------ */
struct nvme_sqe {
	uint8_t		opcode;
	uint8_t		flags;		/* PSDT 7:6, FUSE 1:0 */
	uint16_t	cid;		/* opaque to the target: kept in host order */
	le32		nsid;
	le32		cdw2;
	le32		cdw3;
	le64		mptr;
	struct nvme_sgl_desc dptr;
	le32		cdw10;
	le32		cdw11;
	le32		cdw12;
	le32		cdw13;
	le32		cdw14;
	le32		cdw15;
};
static_assert(sizeof(struct nvme_sqe) == 64, "SQE");
static_assert(offsetof(struct nvme_sqe, cdw10) == 40, "SQE CDW10");

#define NVME_SQE_PSDT_SGL	(1u << 6)	/* PSDT 01b or 10b: SGL */
#define NVME_SQE_PSDT_MASK	(3u << 6)
#define NVME_SQE_FUSE_MASK	3u

/* Read/Write/Write Zeroes/Zone Append: SLBA in CDW10-11, NLB 0's based CDW12 15:0 */
static inline uint64_t nvme_sqe_slba(const struct nvme_sqe *c)
{
	return (uint64_t)le32_to_cpu(c->cdw11) << 32 | le32_to_cpu(c->cdw10);
}

static inline uint32_t nvme_sqe_nlb(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw12) & 0xffff) + 1;	/* NLB is 0's based */
}

/* Get Log Page: NUMD spans CDW10 31:16 (NUMDL) and CDW11 15:0 (NUMDU), 0's based */
static inline uint64_t nvme_sqe_log_len(const struct nvme_sqe *c)
{
	uint32_t numd = (le32_to_cpu(c->cdw10) >> 16) |
			((le32_to_cpu(c->cdw11) & 0xffff) << 16);
	return ((uint64_t)numd + 1) * 4;
}

static inline uint64_t nvme_sqe_log_offset(const struct nvme_sqe *c)
{
	return (uint64_t)le32_to_cpu(c->cdw13) << 32 | le32_to_cpu(c->cdw12);
}

/* Dataset Management range (NVM command set 3.2.3): NLB is not 0's based */
struct nvme_dsm_range {
	le32		cattr;
	le32		nlb;
	le64		slba;
};
static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range");

#define NVME_DSM_AD		(1u << 2)	/* CDW11: deallocate */

/* Copy source range, descriptor format 0h (NVM command set 3.2.2) */
struct nvme_copy_range {
	uint8_t		rsvd0[8];
	le64		slba;
	le16		nlb;		/* 0's based */
	uint8_t		rsvd18[14];
};
static_assert(sizeof(struct nvme_copy_range) == 32, "Copy source range");

/* Copy: CDW12 NR 7:0 (0's based), DESFMT 11:8 */
static inline uint32_t nvme_copy_nr(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw12) & 0xff) + 1;
}

static inline uint8_t nvme_copy_desfmt(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw12) >> 8) & 0xf;
}

/* Dataset Management: CDW10 NR 7:0, 0's based */
static inline uint32_t nvme_dsm_nr(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw10) & 0xff) + 1;
}

/* ---- Completion queue entry ------------------------------------------------ */
struct nvme_cqe {
	le64		result;		/* DW0 (and DW1 for 64-bit results) */
	le16		sq_head;
	le16		sq_id;
	uint16_t	cid;
	le16		status;		/* status << 1 | phase */
};
static_assert(sizeof(struct nvme_cqe) == 16, "CQE");

/* ---- Fabrics commands ------------------------------------------------------ */
struct nvmf_connect_cmd {
	uint8_t		opcode;
	uint8_t		rsvd1;
	uint16_t	cid;
	uint8_t		fctype;
	uint8_t		rsvd5[19];
	struct nvme_sgl_desc dptr;
	le16		recfmt;
	le16		qid;
	le16		sqsize;		/* 0's based */
	uint8_t		cattr;
	uint8_t		rsvd47;
	le32		kato;		/* milliseconds */
	uint8_t		rsvd52[12];
};
static_assert(sizeof(struct nvmf_connect_cmd) == 64, "Connect");
static_assert(offsetof(struct nvmf_connect_cmd, qid) == 42, "Connect QID");
static_assert(offsetof(struct nvmf_connect_cmd, kato) == 48, "Connect KATO");

#define NVMF_CONNECT_DISABLE_SQFLOW	(1u << 2)
#define NVMF_CNTLID_DYNAMIC		0xffffu
#define NVMF_CNTLID_MAX			0xffefu

struct nvmf_connect_data {
	uint8_t		hostid[16];
	le16		cntlid;
	uint8_t		rsvd18[238];
	char		subsysnqn[NVME_NQN_SIZE];
	char		hostnqn[NVME_NQN_SIZE];
	uint8_t		rsvd768[256];
};
static_assert(sizeof(struct nvmf_connect_data) == 1024, "Connect data");
static_assert(offsetof(struct nvmf_connect_data, subsysnqn) == 256, "SUBNQN");

struct nvmf_property_cmd {
	uint8_t		opcode;
	uint8_t		rsvd1;
	uint16_t	cid;
	uint8_t		fctype;
	uint8_t		rsvd5[35];
	uint8_t		attrib;		/* bit 0: 8-byte property */
	uint8_t		rsvd41[3];
	le32		offset;
	le64		value;
	uint8_t		rsvd56[8];
};
static_assert(sizeof(struct nvmf_property_cmd) == 64, "Property Get/Set");
static_assert(offsetof(struct nvmf_property_cmd, value) == 48, "Property value");

/* Controller properties (NVMe base 2.0 3.1.4) */
enum {
	NVME_REG_CAP	= 0x00,
	NVME_REG_VS	= 0x08,
	NVME_REG_CC	= 0x14,
	NVME_REG_CSTS	= 0x1c,
	NVME_REG_NSSR	= 0x20,
};

#define NVME_CC_EN		(1u << 0)
#define NVME_CC_CSS(cc)		(((cc) >> 4) & 0x7)
#define NVME_CC_CSS_NVM		0
#define NVME_CC_CSS_CSI		6
#define NVME_CC_MPS(cc)		(((cc) >> 7) & 0xf)
#define NVME_CC_SHN(cc)		(((cc) >> 14) & 0x3)
#define NVME_CC_IOSQES(cc)	(((cc) >> 16) & 0xf)
#define NVME_CC_IOCQES(cc)	(((cc) >> 20) & 0xf)
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_CSTS_SHST_CMPLT	(2u << 2)

#define NVME_VS(maj, min, ter)	(((maj) << 16) | ((min) << 8) | (ter))

/* ---- Identify -------------------------------------------------------------- */
enum nvme_identify_cns {
	NVME_ID_CNS_NS			= 0x00,
	NVME_ID_CNS_CTRL		= 0x01,
	NVME_ID_CNS_NS_ACTIVE_LIST	= 0x02,
	NVME_ID_CNS_NS_DESC_LIST	= 0x03,
	NVME_ID_CNS_CS_NS		= 0x05,
	NVME_ID_CNS_CS_CTRL		= 0x06,
	NVME_ID_CNS_NS_CS_ACTIVE_LIST	= 0x07,
	NVME_ID_CNS_CS_INDEP_NS		= 0x08,
	NVME_ID_CNS_CS_COMBINATIONS	= 0x1c,
};

enum nvme_csi {
	NVME_CSI_NVM	= 0,
	NVME_CSI_KV	= 1,
	NVME_CSI_ZNS	= 2,
};

/* CDW10: CNS 7:0, CNTID 31:16; CDW11: CSI 31:24 */
static inline uint8_t nvme_identify_cns_of(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw10) & 0xff;
}

static inline uint8_t nvme_identify_csi_of(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw11) >> 24;
}

struct nvme_psd {
	le16		mp;
	uint8_t		rsvd2;
	uint8_t		flags;
	le32		enlat;
	le32		exlat;
	uint8_t		rrt, rrl, rwt, rwl;
	le16		idlp;
	uint8_t		ips;
	uint8_t		rsvd19;
	le16		actp;
	uint8_t		apws;
	uint8_t		rsvd23[9];
};
static_assert(sizeof(struct nvme_psd) == 32, "power state descriptor");

struct nvme_id_ctrl {
	le16		vid;
	le16		ssvid;
	char		sn[20];
	char		mn[40];
	char		fr[8];
	uint8_t		rab;
	uint8_t		ieee[3];
	uint8_t		cmic;
	uint8_t		mdts;
	le16		cntlid;
	le32		ver;
	le32		rtd3r;
	le32		rtd3e;
	le32		oaes;
	le32		ctratt;
	le16		rrls;
	uint8_t		rsvd102[9];
	uint8_t		cntrltype;
	uint8_t		fguid[16];
	le16		crdt1;
	le16		crdt2;
	le16		crdt3;
	uint8_t		rsvd134[119];
	uint8_t		nvmsr;
	uint8_t		vwci;
	uint8_t		mec;
	le16		oacs;
	uint8_t		acl;
	uint8_t		aerl;
	uint8_t		frmw;
	uint8_t		lpa;
	uint8_t		elpe;
	uint8_t		npss;
	uint8_t		avscc;
	uint8_t		apsta;
	le16		wctemp;
	le16		cctemp;
	le16		mtfa;
	le32		hmpre;
	le32		hmmin;
	uint8_t		tnvmcap[16];
	uint8_t		unvmcap[16];
	le32		rpmbs;
	le16		edstt;
	uint8_t		dsto;
	uint8_t		fwug;
	le16		kas;
	le16		hctma;
	le16		mntmt;
	le16		mxtmt;
	le32		sanicap;
	le32		hmminds;
	le16		hmmaxd;
	le16		nsetidmax;
	le16		endgidmax;
	uint8_t		anatt;
	uint8_t		anacap;
	le32		anagrpmax;
	le32		nanagrpid;
	le32		pels;
	le16		domainid;
	uint8_t		rsvd358[10];
	uint8_t		megcap[16];
	uint8_t		rsvd384[128];
	uint8_t		sqes;
	uint8_t		cqes;
	le16		maxcmd;
	le32		nn;
	le16		oncs;
	le16		fuses;
	uint8_t		fna;
	uint8_t		vwc;
	le16		awun;
	le16		awupf;
	uint8_t		icsvscc;
	uint8_t		nwpc;
	le16		acwu;
	le16		ocfs;
	le32		sgls;
	le32		mnan;
	uint8_t		maxdna[16];
	le32		maxcna;
	uint8_t		rsvd564[204];
	char		subnqn[NVME_NQN_SIZE];
	uint8_t		rsvd1024[768];
	/* Fabrics (NVMe over Fabrics 1.1, figure "Identify Controller") */
	le32		ioccsz;		/* 16-byte units, SQE included */
	le32		iorcsz;
	le16		icdoff;
	uint8_t		fcatt;
	uint8_t		msdbd;
	le16		ofcs;
	uint8_t		rsvd1806[242];
	struct nvme_psd	psd[32];
	uint8_t		vs[1024];
};
static_assert(sizeof(struct nvme_id_ctrl) == 4096, "Identify Controller");
static_assert(offsetof(struct nvme_id_ctrl, oacs) == 256, "OACS");
static_assert(offsetof(struct nvme_id_ctrl, kas) == 320, "KAS");
static_assert(offsetof(struct nvme_id_ctrl, sqes) == 512, "SQES");
static_assert(offsetof(struct nvme_id_ctrl, sgls) == 536, "SGLS");
static_assert(offsetof(struct nvme_id_ctrl, subnqn) == 768, "SUBNQN");
static_assert(offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "IOCCSZ");
static_assert(offsetof(struct nvme_id_ctrl, psd) == 2048, "PSD");

enum {
	NVME_CTRL_TYPE_IO		= 1,
	NVME_CTRL_TYPE_DISC		= 2,
	NVME_CTRL_ONCS_COMPARE		= 1 << 0,
	NVME_CTRL_ONCS_DSM		= 1 << 2,
	NVME_CTRL_ONCS_WRITE_ZEROES	= 1 << 3,
	NVME_CTRL_ONCS_VERIFY		= 1 << 7,
	NVME_CTRL_ONCS_COPY		= 1 << 8,
	NVME_CTRL_VWC_PRESENT		= 1 << 0,
	NVME_CTRL_VWC_NSID_FFFFFFFF	= 3 << 1,	/* flush with broadcast NSID supported */
	NVME_CTRL_LPA_CMD_EFFECTS	= 1 << 1,
	NVME_CTRL_LPA_EXTENDED		= 1 << 2,	/* offsets and 32-bit NUMD */
	NVME_CTRL_LPA_SUPPORTED_LOGS	= 1 << 5,	/* LIDs 00h and 12h */
	NVME_CTRL_OCFS_FORMAT0		= 1 << 0,
	NVME_CTRL_OAES_NS_ATTR		= 1 << 8,
	NVME_CTRL_OAES_ZONE_DESC	= 1 << 27,
	NVME_CTRL_CTRATT_128_HOSTID	= 1 << 0,
	NVME_CTRL_CTRATT_TBKAS		= 1 << 6,
	NVME_CTRL_SGLS_SUPPORTED	= 1 << 0,	/* no alignment requirement */
	NVME_CTRL_SGLS_KEYED		= 1 << 2,
	NVME_CTRL_SGLS_OFFSET		= 1 << 20,
	NVME_CTRL_FRMW_SLOT1_RO		= 1 << 0,
};

struct nvme_lbaf {
	le16		ms;
	uint8_t		ds;		/* log2(LBA data size) */
	uint8_t		rp;
};
static_assert(sizeof(struct nvme_lbaf) == 4, "LBA format");

struct nvme_id_ns {
	le64		nsze;
	le64		ncap;
	le64		nuse;
	uint8_t		nsfeat;
	uint8_t		nlbaf;		/* 0's based */
	uint8_t		flbas;
	uint8_t		mc;
	uint8_t		dpc;
	uint8_t		dps;
	uint8_t		nmic;
	uint8_t		rescap;
	uint8_t		fpi;
	uint8_t		dlfeat;
	le16		nawun;
	le16		nawupf;
	le16		nacwu;
	le16		nabsn;
	le16		nabo;
	le16		nabspf;
	le16		noiob;
	uint8_t		nvmcap[16];
	le16		npwg;
	le16		npwa;
	le16		npdg;
	le16		npda;
	le16		nows;
	le16		mssrl;
	le32		mcl;
	uint8_t		msrc;
	uint8_t		rsvd81;
	uint8_t		nulbaf;
	uint8_t		rsvd83[9];
	le32		anagrpid;
	uint8_t		rsvd96[3];
	uint8_t		nsattr;
	le16		nvmsetid;
	le16		endgid;
	uint8_t		nguid[16];
	uint8_t		eui64[8];
	struct nvme_lbaf lbaf[64];
	uint8_t		vs[3712];
};
static_assert(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace");
static_assert(offsetof(struct nvme_id_ns, nguid) == 104, "NGUID");
static_assert(offsetof(struct nvme_id_ns, lbaf) == 128, "LBAF");

/* I/O Command Set Independent Identify Namespace (CNS 08h) */
struct nvme_id_ns_cs_indep {
	uint8_t		nsfeat;
	uint8_t		nmic;
	uint8_t		rescap;
	uint8_t		fpi;
	le32		anagrpid;
	uint8_t		nsattr;
	le16		nvmsetid;	/* unaligned on the wire: bytes 9..10 */
	le16		endgid;
	uint8_t		nstat;		/* bit 0: namespace ready */
	uint8_t		rsvd14[4082];
} __attribute__((packed));
static_assert(sizeof(struct nvme_id_ns_cs_indep) == 4096, "CS independent ns");
static_assert(offsetof(struct nvme_id_ns_cs_indep, nstat) == 13, "NSTAT");

/* NVM Command Set Identify Controller (CNS 06h, CSI 0) */
struct nvme_id_ctrl_nvm {
	uint8_t		vsl;
	uint8_t		wzsl;
	uint8_t		wusl;
	uint8_t		dmrl;
	le32		dmrsl;
	le64		dmsl;
	uint8_t		rsvd16[4080];
};
static_assert(sizeof(struct nvme_id_ctrl_nvm) == 4096, "NVM identify ctrl");

/* Namespace Identification Descriptor (CNS 03h) */
struct nvme_ns_id_desc {
	uint8_t		nidt;
	uint8_t		nidl;
	le16		rsvd2;
};
static_assert(sizeof(struct nvme_ns_id_desc) == 4, "NS id descriptor");

enum {
	NVME_NIDT_EUI64	= 0x01,
	NVME_NIDT_NGUID	= 0x02,
	NVME_NIDT_UUID	= 0x03,
	NVME_NIDT_CSI	= 0x04,
};

/* ---- Features -------------------------------------------------------------- */
enum nvme_feature_id {
	NVME_FEAT_ARBITRATION	= 0x01,
	NVME_FEAT_POWER_MGMT	= 0x02,
	NVME_FEAT_TEMP_THRESH	= 0x04,
	NVME_FEAT_ERR_RECOVERY	= 0x05,
	NVME_FEAT_VOLATILE_WC	= 0x06,
	NVME_FEAT_NUM_QUEUES	= 0x07,
	NVME_FEAT_IRQ_COALESCE	= 0x08,
	NVME_FEAT_WRITE_ATOMIC	= 0x0a,
	NVME_FEAT_ASYNC_EVENT	= 0x0b,
	NVME_FEAT_KATO		= 0x0f,
	NVME_FEAT_IOCS_PROFILE	= 0x19,
	NVME_FEAT_HOST_ID	= 0x81,
};

/* ---- Log pages ------------------------------------------------------------- */
enum nvme_log_id {
	NVME_LOG_SUPPORTED	= 0x00,
	NVME_LOG_ERROR		= 0x01,
	NVME_LOG_SMART		= 0x02,
	NVME_LOG_FW_SLOT	= 0x03,
	NVME_LOG_CHANGED_NS	= 0x04,
	NVME_LOG_CMD_EFFECTS	= 0x05,
	NVME_LOG_FID_SUPPORTED	= 0x12,
	NVME_LOG_DISC		= 0x70,
	NVME_LOG_CHANGED_ZONES	= 0xbf,
};

/* CDW10 LID 7:0, LSP 14:8, RAE 15; CDW14 CSI 31:24 */
static inline uint8_t nvme_log_lid_of(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw10) & 0xff;
}

static inline int nvme_log_rae(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw10) >> 15) & 1;
}

static inline uint8_t nvme_log_csi_of(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw14) >> 24;
}

struct nvme_error_log_entry {
	le64		error_count;
	le16		sqid;
	uint16_t	cid;
	le16		status;
	le16		param_error_location;
	le64		lba;
	le32		nsid;
	uint8_t		vs;
	uint8_t		trtype;
	uint8_t		rsvd30[2];
	le64		cs;
	le16		trtype_spec;
	uint8_t		rsvd42[22];
};
static_assert(sizeof(struct nvme_error_log_entry) == 64, "error log entry");

struct nvme_smart_log {
	uint8_t		critical_warning;
	le16		temperature;	/* Kelvin; unaligned on the wire */
	uint8_t		avail_spare;
	uint8_t		spare_thresh;
	uint8_t		percent_used;
	uint8_t		endu_grp_crit_warn;
	uint8_t		rsvd7[25];
	uint8_t		data_units_read[16];
	uint8_t		data_units_written[16];
	uint8_t		host_reads[16];
	uint8_t		host_writes[16];
	uint8_t		ctrl_busy_time[16];
	uint8_t		power_cycles[16];
	uint8_t		power_on_hours[16];
	uint8_t		unsafe_shutdowns[16];
	uint8_t		media_errors[16];
	uint8_t		num_err_log_entries[16];
	le32		warning_temp_time;
	le32		critical_comp_time;
	le16		temp_sensor[8];
	le32		thm_temp1_trans_count;
	le32		thm_temp2_trans_count;
	le32		thm_temp1_total_time;
	le32		thm_temp2_total_time;
	uint8_t		rsvd232[280];
} __attribute__((packed));
static_assert(sizeof(struct nvme_smart_log) == 512, "SMART log");
static_assert(offsetof(struct nvme_smart_log, data_units_read) == 32, "SMART DUR");

struct nvme_fw_slot_log {
	uint8_t		afi;
	uint8_t		rsvd1[7];
	char		frs[7][8];
	uint8_t		rsvd64[448];
};
static_assert(sizeof(struct nvme_fw_slot_log) == 512, "FW slot log");

struct nvme_effects_log {
	le32		acs[256];
	le32		iocs[256];
	uint8_t		rsvd2048[2048];
};
static_assert(sizeof(struct nvme_effects_log) == 4096, "effects log");

enum {
	NVME_CMD_EFFECTS_CSUPP	= 1 << 0,
	NVME_CMD_EFFECTS_LBCC	= 1 << 1,
	NVME_CMD_EFFECTS_NCC	= 1 << 2,
	NVME_CMD_EFFECTS_NIC	= 1 << 3,
	NVME_CMD_EFFECTS_CCC	= 1 << 4,
};

/* ---- Asynchronous events --------------------------------------------------- */
enum {
	NVME_AER_TYPE_NOTICE		= 2,
	NVME_AER_NOTICE_NS_CHANGED	= 0x00,
	NVME_AER_NOTICE_ZONE_CHANGED	= 0xef,
	NVME_AEN_CFG_NS_ATTR		= 1 << 8,
	NVME_AEN_CFG_ZONE_CHANGED	= 1 << 27,
};

/* ---- Discovery log (NVMe over Fabrics) ------------------------------------- */
struct nvmf_disc_log_entry {
	uint8_t		trtype;
	uint8_t		adrfam;
	uint8_t		subtype;
	uint8_t		treq;
	le16		portid;
	le16		cntlid;
	le16		asqsz;
	le16		eflags;
	uint8_t		rsvd12[20];
	char		trsvcid[32];
	uint8_t		rsvd64[192];
	char		subnqn[NVME_NQN_SIZE];
	char		traddr[256];
	uint8_t		tsas[256];
};
static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "discovery log entry");
static_assert(offsetof(struct nvmf_disc_log_entry, traddr) == 512, "TRADDR");

struct nvmf_disc_log_hdr {
	le64		genctr;
	le64		numrec;
	le16		recfmt;
	uint8_t		rsvd18[1006];
};
static_assert(sizeof(struct nvmf_disc_log_hdr) == 1024, "discovery log header");

enum {
	NVMF_TRTYPE_TCP		= 3,
	NVMF_ADDR_FAMILY_IP4	= 1,
	NVMF_ADDR_FAMILY_IP6	= 2,
	NVMF_SUBTYPE_DISCOVERY	= 1,
	NVMF_SUBTYPE_NVME	= 2,
	NVMF_SUBTYPE_CURR_DISC	= 3,
	NVMF_TREQ_NOT_SPECIFIED	= 0,
	NVMF_TREQ_DISABLE_SQFLOW = 1 << 2,
	NVMF_TCP_SECTYPE_NONE	= 0,
};

#endif
