// The FME PR feature's manager ops (drivers/fpga/dfl-fme-mgr.c fme_mgr_ops), run from userspace
// on the feature's registers (reference/pr.md); the framework that calls them is fpga-manager.ts.
//   writeInit (fme_mgr_write_init): set PR_CTRL[0] PR reset; poll PR_CTRL[4] ACK = 1 (1 us, 8 s);
//     clear PR reset; poll PR_STS[16] = 0 (1 us, 8 s); read PR_ERR and write it back if any bit
//     is latched; write the region ID into PR_CTRL[9:7].
//   write (fme_mgr_write): on the first chunk set PR_CTRL[12] start; stream the words to PR_DATA
//     as 64-bit stores, each gated by PR_STS[8:0] credits (> 1), through creditStream (the shim's
//     loop, or its JS fallback).
//   writeComplete (fme_mgr_write_complete): set PR_CTRL[13]; poll PR_CTRL[12] = 0 (1 us, 8 s);
//     read PR_ERR: any bit is a failure, reported bit by bit.
// Differences from the kernel, on purpose: PR_ERR is read after completion whatever PR_STS[16]
// says (fme_mgr_pr_error_handle reads it only while PR_STS[16] is set), and the credit wait is
// bounded per stall (8 s without a credit) where the kernel counts 8,000,000 polls over the whole
// bitstream. Every wait runs on the device's clock (region.clock), so the sim runs 8 s instantly.
import type { Region } from '../../mmio/region.js';
import { creditStream } from '../../mmio/credit-stream.js';
import { clearBits64, setBits64, updateBits64, waitBits64Async } from '../../mmio/bits.js';
import { fieldPrep } from '../../util/bitfield.js';
import { hex } from '../../util/bytes.js';
import { logger } from '../../util/log.js';
import {
  decodePrErr, decodePrSts, prErrCode, PR_CTRL, PR_CTRL_PR_COMPLETE, PR_CTRL_PR_RST, PR_CTRL_PR_RSTACK, PR_CTRL_PR_START,
  PR_CTRL_RGN_ID, PR_DATA, PR_DATA_WORD_BYTES, PR_ERR, PR_ERR_BITS, PR_INTFC_ID_H, PR_INTFC_ID_L, PR_REGISTER_NAMES, PR_STS,
  PR_STS_PR_CREDIT, PR_STS_PR_STS,
} from './registers.js';
import { halvesToUuid } from './uuid.js';
import type { FpgaManagerOps } from './fpga-manager.js';

const log = logger('pr');

/** Where the PR feature's registers are: a region and the offset of the block (a FeatureRef's csrOffset). */
export interface PrFeatureRef {
  region: Region;
  offset: number;
}

/** fme_mgr_ops over the PR registers at `pr`. */
export function fmeMgrOps(pr: PrFeatureRef): FpgaManagerOps {
  const { region, offset: base } = pr;
  const reg = (r: number): string => `${PR_REGISTER_NAMES[r] ?? hex(r)} (${region.name}+${hex(base + r)})`;
  return {
    name: 'DFL FME FPGA Manager',
    clock: region.clock,
    compatIdRegister: `PR_INTFC_ID_H:PR_INTFC_ID_L at ${region.name}+${hex(base + PR_INTFC_ID_H)}/${hex(base + PR_INTFC_ID_L)}`,

    compatId: () => halvesToUuid(region.read64(base + PR_INTFC_ID_H), region.read64(base + PR_INTFC_ID_L)),

    status: () => decodePrSts(region.read64(base + PR_STS)),

    async writeInit(info, ctx) {
      const { timeouts } = ctx;
      ctx.step('pr-reset');
      setBits64(region, base + PR_CTRL, PR_CTRL_PR_RST);
      const ack = await waitBits64Async(region, base + PR_CTRL, PR_CTRL_PR_RSTACK, true, { timeoutMs: timeouts.resetAckMs, intervalUs: timeouts.intervalUs });
      if (ack.timedOut) {
        throw ctx.fail('EPR_RESET_ACK_TIMEOUT', `PR reset was not acknowledged: ${reg(PR_CTRL)} bit 4 (PR reset ACK) still 0 ${timeouts.resetAckMs} ms after setting bit 0 (PR reset), PR_CTRL=${hex(ack.value)}; the PR engine is hung: reset the card and retry`, { register: 'PR_CTRL', bits: '4', value: hex(ack.value), timeoutMs: timeouts.resetAckMs });
      }
      clearBits64(region, base + PR_CTRL, PR_CTRL_PR_RST);

      ctx.step('wait-idle');
      const idle = await waitBits64Async(region, base + PR_STS, PR_STS_PR_STS, false, { timeoutMs: timeouts.idleMs, intervalUs: timeouts.intervalUs });
      if (idle.timedOut) {
        const err = region.read64(base + PR_ERR);
        throw ctx.fail('EPR_BUSY_TIMEOUT', `the PR engine did not become idle after PR reset: ${reg(PR_STS)} bit 16 (PR status) still 1 after ${timeouts.idleMs} ms, PR_STS=${hex(idle.value)}${err ? `, PR_ERR=${hex(err)} (${decodePrErr(err).join(', ')})` : ''}; reset the card and retry`, { register: 'PR_STS', bits: '16', value: hex(idle.value), prErr: hex(err), errors: decodePrErr(err), timeoutMs: timeouts.idleMs });
      }

      ctx.step('clear-errors');
      const stale = region.read64(base + PR_ERR);
      const staleErrors = decodePrErr(stale);
      if (stale !== 0n) {
        log('clearing errors latched before this PR: PR_ERR=%s (%s)', hex(stale), staleErrors.join(', '));
        region.write64(base + PR_ERR, stale);
      }

      ctx.step('set-region');
      updateBits64(region, base + PR_CTRL, PR_CTRL_RGN_ID, fieldPrep(PR_CTRL_RGN_ID, info.regionId));
      return { staleErrors };
    },

    write(words, ctx) {
      if (ctx.written === 0) {
        ctx.step('start');
        setBits64(region, base + PR_CTRL, PR_CTRL_PR_START);
        ctx.step('stream');
      }
      const r = creditStream(region, {
        dataOffset: base + PR_DATA,
        statusOffset: base + PR_STS,
        creditMask: Number(PR_STS_PR_CREDIT),
        words,
        timeoutMs: ctx.timeouts.creditMs,
        intervalUs: ctx.timeouts.intervalUs,
      });
      if (r.timedOut || r.written < words.length) {
        const written = ctx.written + r.written * PR_DATA_WORD_BYTES;
        const sts = decodePrSts(r.lastStatus);
        throw ctx.fail('EPR_CREDIT_TIMEOUT', `the PR engine stopped taking data after ${written} of ${ctx.total} bytes: ${reg(PR_STS)} bits 8:0 (credits) stayed at ${sts.credits} (<= 1) for ${ctx.timeouts.creditMs} ms, PR_STS=${hex(r.lastStatus)}; reset the card and retry`, { register: 'PR_STS', bits: '8:0', value: hex(r.lastStatus), written, total: ctx.total, timeoutMs: ctx.timeouts.creditMs });
      }
    },

    async writeComplete(_info, ctx) {
      const { timeouts } = ctx;
      ctx.step('complete');
      setBits64(region, base + PR_CTRL, PR_CTRL_PR_COMPLETE);
      ctx.step('wait-done');
      const done = await waitBits64Async(region, base + PR_CTRL, PR_CTRL_PR_START, false, { timeoutMs: timeouts.completeMs, intervalUs: timeouts.intervalUs });
      if (done.timedOut) {
        throw ctx.fail('EPR_COMPLETE_TIMEOUT', `PR did not finish: ${reg(PR_CTRL)} bit 12 (PR start) still 1 ${timeouts.completeMs} ms after setting bit 13 (PR complete), PR_CTRL=${hex(done.value)}; reset the card and retry`, { register: 'PR_CTRL', bits: '12', value: hex(done.value), timeoutMs: timeouts.completeMs });
      }

      ctx.step('check-errors');
      const raw = region.read64(base + PR_STS);
      const status = decodePrSts(raw);
      const prErr = region.read64(base + PR_ERR);
      if (prErr !== 0n) {
        region.write64(base + PR_ERR, prErr); // clear, as fme_mgr_pr_error_handle does
        const names = decodePrErr(prErr);
        const hints = PR_ERR_BITS.filter((b) => (prErr >> BigInt(b.bit)) & 1n).map((b) => b.hint);
        throw ctx.fail(prErrCode(prErr), `the card refused the bitstream: ${reg(PR_ERR)}=${hex(prErr)} (${names.join(', ')}), PR_STS=${hex(raw)}; ${hints.join('; ')}`, { register: 'PR_ERR', bits: bitsOf(prErr).join(','), value: hex(prErr), errors: names, status: hex(raw), written: ctx.written });
      }
      return { status };
    },
  };
}

function bitsOf(value: bigint): number[] {
  const out: number[] = [];
  for (let b = 0; b < 64; b++) if ((value >> BigInt(b)) & 1n) out.push(b);
  return out;
}
