// The C reference of `pnpm bench`: the same work as the TypeScript driver's rings, written the
// way C ixy writes it (src/driver/ixgbe.c ixgbe_rx_batch/ixgbe_tx_batch, src/memory.c), against
// the same "instant card" as packages/bench/src/instant-card.ts. Built by the bench with the
// system's `cc -O2` (baseline x86-64) and run as a child process in the same `pnpm bench` run.
//
//   cref tsc                                 TSC frequency against CLOCK_MONOTONIC, in GHz
//   cref <fwd|rings> <batch> <seconds> <rounds>
//       runs the step for a warm-up, then `rounds` runs of about `seconds`; prints one line per
//       run: "<packets> <cpu ns> <wall ns>"
//   cref serve <fwd|rings> <batch>
//       runs the warm-up, prints "ready", then one run per line read from stdin (the line is its
//       length in seconds) and prints it as above, until end of input: the bench takes turns
//       between this process and the TypeScript ones, run by run
//
// fwd:   receive a batch, touch byte 1 of each packet, send it, free what TX did not take (ixy-fwd)
// rings: the same without the touch (the driver's rings alone)
//
// Everything is in one file, so the compiler may inline the mempool into the driver (C ixy
// keeps memory.c apart): a reference at least as fast as C ixy's own.
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_SIZE 512
#define POOL_ENTRIES 4096
#define ENTRY_SIZE 2048
#define TX_CLEAN_BATCH 32
#define MAX_BATCH 256

// registers (offsets in BAR0) and descriptor bits: 82599 datasheet §8.2.3.8.4, §8.2.3.9.10,
// §7.1.6.2, §7.2.3.2.4
#define IXGBE_RDT(i) (0x01018 + ((i) * 0x40))
#define IXGBE_TDT(i) (0x06018 + ((i) * 0x40))
#define IXGBE_RXDADV_STAT_DD 0x01
#define IXGBE_RXDADV_STAT_EOP 0x02
#define IXGBE_ADVTXD_DCMD_EOP 0x01000000u
#define IXGBE_ADVTXD_DCMD_IFCS 0x02000000u
#define IXGBE_ADVTXD_DCMD_RS 0x08000000u
#define IXGBE_ADVTXD_DCMD_DEXT 0x20000000u
#define IXGBE_ADVTXD_DTYP_DATA 0x00300000u
#define IXGBE_ADVTXD_STAT_DD 0x01
#define IXGBE_ADVTXD_PAYLEN_SHIFT 14

// advanced receive descriptor (§7.1.6): read format and write-back format
union rx_desc {
	struct {
		uint64_t pkt_addr;
		uint64_t hdr_addr;
	} read;
	struct {
		uint32_t info;
		uint32_t rss;
		uint32_t status_error;
		uint16_t length;
		uint16_t vlan;
	} wb;
};

// advanced transmit data descriptor (§7.2.3.2.4) and its write-back (§7.2.3.2.5)
union tx_desc {
	struct {
		uint64_t buffer_addr;
		uint32_t cmd_type_len;
		uint32_t olinfo_status;
	} read;
	struct {
		uint64_t rsvd;
		uint32_t nxtseq_seed;
		uint32_t status;
	} wb;
};

struct mempool;

// a packet buffer as C ixy lays it out: a 64-byte header, then the data
struct pkt_buf {
	uint64_t buf_addr_phy;
	struct mempool* mempool;
	uint32_t mempool_idx;
	uint32_t size;
	uint8_t head_room[40];
	uint8_t data[] __attribute__((aligned(64)));
};

struct mempool {
	uint8_t* base_addr;
	uint32_t buf_size;
	uint32_t num_entries;
	uint32_t free_stack_top;
	uint32_t free_stack[];
};

static struct mempool* mempool_create(uint32_t entries, uint32_t entry_size) {
	struct mempool* pool = malloc(sizeof(struct mempool) + entries * sizeof(uint32_t));
	uint8_t* mem = aligned_alloc(1 << 21, (size_t) entries * entry_size);
	if (!pool || !mem) {
		fprintf(stderr, "cref: out of memory\n");
		exit(1);
	}
	memset(mem, 0, (size_t) entries * entry_size);
	pool->base_addr = mem;
	pool->buf_size = entry_size;
	pool->num_entries = entries;
	pool->free_stack_top = entries;
	for (uint32_t i = 0; i < entries; i++) {
		// LIFO with index 0 on top, as the TypeScript pool
		pool->free_stack[i] = entries - 1 - i;
		struct pkt_buf* buf = (struct pkt_buf*) (mem + (size_t) i * entry_size);
		buf->buf_addr_phy = (uintptr_t) buf; // identity "bus address", as with an IOMMU
		buf->mempool = pool;
		buf->mempool_idx = i;
		buf->size = 0;
	}
	return pool;
}

static inline struct pkt_buf* pkt_buf_alloc(struct mempool* pool) {
	if (pool->free_stack_top == 0) return NULL;
	uint32_t id = pool->free_stack[--pool->free_stack_top];
	return (struct pkt_buf*) (pool->base_addr + (size_t) id * pool->buf_size);
}

static inline void pkt_buf_free(struct pkt_buf* buf) {
	struct mempool* pool = buf->mempool;
	pool->free_stack[pool->free_stack_top++] = buf->mempool_idx;
}

struct rx_queue {
	volatile union rx_desc* descriptors;
	struct mempool* mempool;
	uint16_t num_entries;
	uint16_t rx_index;
	struct pkt_buf* virtual_addresses[RING_SIZE];
};

struct tx_queue {
	volatile union tx_desc* descriptors;
	uint16_t num_entries;
	uint16_t clean_index;
	uint16_t tx_index;
	struct pkt_buf* virtual_addresses[RING_SIZE];
};

// The instant card: a register write moving RDT marks every newly posted RX descriptor
// received (60 bytes, DD|EOP); one moving TDT marks every new TX descriptor done.
struct device {
	struct rx_queue rx;
	struct tx_queue tx;
	uint32_t card_rx_head;
	uint32_t card_tx_head;
};

static void set_reg32(struct device* dev, uint32_t reg, uint32_t value) {
	if (reg == IXGBE_RDT(0)) {
		volatile union rx_desc* ring = dev->rx.descriptors;
		for (; dev->card_rx_head != value; dev->card_rx_head = (dev->card_rx_head + 1) & (RING_SIZE - 1)) {
			ring[dev->card_rx_head].wb.length = 60;
			ring[dev->card_rx_head].wb.status_error = IXGBE_RXDADV_STAT_DD | IXGBE_RXDADV_STAT_EOP;
		}
	} else if (reg == IXGBE_TDT(0)) {
		volatile union tx_desc* ring = dev->tx.descriptors;
		for (; dev->card_tx_head != value; dev->card_tx_head = (dev->card_tx_head + 1) & (RING_SIZE - 1))
			ring[dev->card_tx_head].wb.status = IXGBE_ADVTXD_STAT_DD;
	}
}

#define wrap_ring(index, size) ((uint16_t) (((index) + 1) & ((size) - 1)))

// ixgbe_rx_batch's structure (§7.1.9): read write-backs from rx_index, refill each descriptor
// with a fresh buffer, one RDT write per batch (one behind the next descriptor to check)
static uint32_t rx_batch(struct device* dev, struct pkt_buf* bufs[], uint32_t num_bufs) {
	struct rx_queue* queue = &dev->rx;
	uint16_t rx_index = queue->rx_index;
	uint16_t last_rx_index = rx_index;
	uint32_t n;
	for (n = 0; n < num_bufs; n++) {
		volatile union rx_desc* desc = queue->descriptors + rx_index;
		uint32_t status = desc->wb.status_error;
		if (!(status & IXGBE_RXDADV_STAT_DD)) break;
		if (!(status & IXGBE_RXDADV_STAT_EOP)) {
			fprintf(stderr, "cref: multi-segment packet\n");
			exit(1);
		}
		struct pkt_buf* buf = queue->virtual_addresses[rx_index];
		buf->size = desc->wb.length;
		struct pkt_buf* fresh = pkt_buf_alloc(queue->mempool);
		if (!fresh) {
			fprintf(stderr, "cref: mempool empty\n");
			exit(1);
		}
		desc->read.pkt_addr = fresh->buf_addr_phy + offsetof(struct pkt_buf, data);
		desc->read.hdr_addr = 0; // clears DD
		queue->virtual_addresses[rx_index] = fresh;
		bufs[n] = buf;
		last_rx_index = rx_index;
		rx_index = wrap_ring(rx_index, queue->num_entries);
	}
	if (rx_index != last_rx_index) {
		set_reg32(dev, IXGBE_RDT(0), last_rx_index);
		queue->rx_index = rx_index;
	}
	return n;
}

// ixgbe_tx_batch's structure (§7.2.3): clean up sent buffers in batches of TX_CLEAN_BATCH by the
// DD bit of each batch's last descriptor, fill descriptors, one TDT write per batch
static uint32_t tx_batch(struct device* dev, struct pkt_buf* bufs[], uint32_t num_bufs) {
	struct tx_queue* queue = &dev->tx;
	uint16_t clean_index = queue->clean_index;
	for (;;) {
		int32_t cleanable = queue->tx_index - clean_index;
		if (cleanable < 0) cleanable += queue->num_entries;
		if (cleanable < TX_CLEAN_BATCH) break;
		uint16_t cleanup_to = (uint16_t) ((clean_index + TX_CLEAN_BATCH - 1) & (queue->num_entries - 1));
		if (!(queue->descriptors[cleanup_to].wb.status & IXGBE_ADVTXD_STAT_DD)) break;
		for (uint16_t i = clean_index;; i = wrap_ring(i, queue->num_entries)) {
			pkt_buf_free(queue->virtual_addresses[i]);
			if (i == cleanup_to) break;
		}
		clean_index = wrap_ring(cleanup_to, queue->num_entries);
	}
	queue->clean_index = clean_index;

	uint32_t sent;
	for (sent = 0; sent < num_bufs; sent++) {
		uint16_t next_index = wrap_ring(queue->tx_index, queue->num_entries);
		if (next_index == clean_index) break; // ring full
		struct pkt_buf* buf = bufs[sent];
		queue->virtual_addresses[queue->tx_index] = buf;
		volatile union tx_desc* desc = queue->descriptors + queue->tx_index;
		desc->read.buffer_addr = buf->buf_addr_phy + offsetof(struct pkt_buf, data);
		desc->read.cmd_type_len = IXGBE_ADVTXD_DCMD_EOP | IXGBE_ADVTXD_DCMD_RS | IXGBE_ADVTXD_DCMD_IFCS |
		                          IXGBE_ADVTXD_DCMD_DEXT | IXGBE_ADVTXD_DTYP_DATA | buf->size;
		desc->read.olinfo_status = buf->size << IXGBE_ADVTXD_PAYLEN_SHIFT;
		queue->tx_index = next_index;
	}
	set_reg32(dev, IXGBE_TDT(0), queue->tx_index);
	return sent;
}

static struct device* device_create(void) {
	struct device* dev = calloc(1, sizeof(struct device));
	void* rx_ring = aligned_alloc(4096, RING_SIZE * sizeof(union rx_desc));
	void* tx_ring = aligned_alloc(4096, RING_SIZE * sizeof(union tx_desc));
	if (!dev || !rx_ring || !tx_ring) {
		fprintf(stderr, "cref: out of memory\n");
		exit(1);
	}
	memset(rx_ring, 0xff, RING_SIZE * sizeof(union rx_desc));
	memset(tx_ring, 0xff, RING_SIZE * sizeof(union tx_desc));
	dev->rx.descriptors = rx_ring;
	dev->rx.num_entries = RING_SIZE;
	dev->rx.mempool = mempool_create(POOL_ENTRIES, ENTRY_SIZE);
	dev->tx.descriptors = tx_ring;
	dev->tx.num_entries = RING_SIZE;
	// fill the RX ring, then hand it all but one descriptor to the card (as the TS bench)
	for (uint16_t i = 0; i < RING_SIZE; i++) {
		struct pkt_buf* buf = pkt_buf_alloc(dev->rx.mempool);
		dev->rx.descriptors[i].read.pkt_addr = buf->buf_addr_phy + offsetof(struct pkt_buf, data);
		dev->rx.descriptors[i].read.hdr_addr = 0;
		dev->rx.virtual_addresses[i] = buf;
	}
	set_reg32(dev, IXGBE_RDT(0), RING_SIZE - 1);
	return dev;
}

static struct pkt_buf* bufs[MAX_BATCH];

static uint32_t fwd_step(struct device* dev, uint32_t batch, int touch) {
	uint32_t n = rx_batch(dev, bufs, batch);
	if (touch)
		for (uint32_t i = 0; i < n; i++) bufs[i]->data[1]++;
	uint32_t sent = tx_batch(dev, bufs, n);
	for (uint32_t i = sent; i < n; i++) pkt_buf_free(bufs[i]);
	return n;
}

static double clock_ns(clockid_t clock) {
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static double now_ns(void) {
	return clock_ns(CLOCK_MONOTONIC);
}

// the same loop as the TypeScript cases (ts-case.ts): the clock is read every 64 steps; the
// run is timed in CPU time of the process (as process.cpuUsage) and wall time
static void run(struct device* dev, uint32_t batch, int touch, double seconds, int print) {
	uint64_t count = 0;
	double cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	double start = now_ns();
	double now = start;
	while (now - start < seconds * 1e9) {
		for (int i = 0; i < 64; i++) count += fwd_step(dev, batch, touch);
		now = now_ns();
	}
	double cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	if (print) printf("%llu %.0f %.0f\n", (unsigned long long) count, cpu, now - start);
}

static uint64_t rdtsc(void) {
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t) hi << 32) | lo;
}

int main(int argc, char** argv) {
	if (argc == 2 && strcmp(argv[1], "tsc") == 0) {
		// TSC ticks per ns over 200 ms of CLOCK_MONOTONIC
		double t0 = now_ns();
		uint64_t c0 = rdtsc();
		while (now_ns() - t0 < 2e8) {
		}
		double t1 = now_ns();
		uint64_t c1 = rdtsc();
		printf("%.4f\n", (double) (c1 - c0) / (t1 - t0));
		return 0;
	}
	int serve = argc == 4 && strcmp(argv[1], "serve") == 0;
	if (serve) argv++; // serve <mode> <batch>: the same arguments as below, without seconds and rounds
	if ((argc != 5 && !serve) || (strcmp(argv[1], "fwd") != 0 && strcmp(argv[1], "rings") != 0)) {
		fprintf(stderr, "usage: cref tsc | cref <fwd|rings> <batch> <seconds> <rounds> | cref serve <fwd|rings> <batch>\n");
		return 2;
	}
	int touch = strcmp(argv[1], "fwd") == 0;
	long batch = strtol(argv[2], NULL, 10);
	double seconds = serve ? 0.5 : strtod(argv[3], NULL);
	long rounds = serve ? 1 : strtol(argv[4], NULL, 10);
	if (batch < 1 || batch > MAX_BATCH || !(seconds > 0) || rounds < 1) {
		fprintf(stderr, "cref: batch must be 1..%d, seconds > 0, rounds >= 1\n", MAX_BATCH);
		return 2;
	}
	struct device* dev = device_create();
	run(dev, (uint32_t) batch, touch, seconds < 0.5 ? seconds : 0.5, 0); // warm-up, as the TypeScript's
	if (serve) {
		printf("ready\n");
		fflush(stdout);
		char line[64];
		while (fgets(line, sizeof line, stdin) != NULL) {
			double s = strtod(line, NULL);
			if (!(s > 0)) {
				fprintf(stderr, "cref: a run's length must be > 0 seconds, got %s", line);
				return 2;
			}
			run(dev, (uint32_t) batch, touch, s, 1);
			fflush(stdout);
		}
	} else {
		for (long r = 0; r < rounds; r++) run(dev, (uint32_t) batch, touch, seconds, 1);
	}
	// every buffer is in the RX ring, the TX ring or the pool: none leaked, none twice
	uint32_t in_tx = (uint32_t) ((dev->tx.tx_index - dev->tx.clean_index) & (RING_SIZE - 1));
	if (dev->rx.mempool->free_stack_top + RING_SIZE + in_tx != POOL_ENTRIES) {
		fprintf(stderr, "cref: buffers lost: %u free + %u rx + %u tx != %u\n", dev->rx.mempool->free_stack_top,
		        RING_SIZE, in_tx, POOL_ENTRIES);
		return 1;
	}
	return 0;
}
