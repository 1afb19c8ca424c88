// Which signed images the BMC's secure update takes, and why the others are refused before the
// BMC is touched. The kernel (drivers/fpga/intel-m10-bmc-sec-update.c) passes any image to the
// BMC and lets it authenticate; vfiokit refuses only what can never be right:
//  - content types PACSign does not define (database.py CONTENT_*: 0..11);
//  - updates signed with the PR key (database.py SIGN_PR: PR, THERM_PR, PR_TEST): a PR-region
//    bitstream is loaded by partial reconfiguration into a port, never written to flash;
//  - root-key-hash programming and key cancellation for anything but SR, BMC and PR: the BMC keeps
//    root entry hashes and cancelled-CSK lists for exactly those three (intel-m10-bmc-sec-update.c
//    sr/bmc/pr_root_entry_hash, sr/bmc/pr_canceled_csks).
// Everything else goes to the BMC, which authenticates it and reports a refusal in the doorbell.
import { ContentType, Subtype, contentTypeKeys, contentTypeNames, contentTypePacsignNames } from '../../dfl/regs/signed-image-layout.js';

/** Why the BMC's secure update cannot take an image of this type and subtype, or undefined when it can. */
export function flashRefusal(contentType: number, subtype: number): string | undefined {
  if (contentType >= contentTypeNames.length) {
    return `content type ${contentType} is not one PACSign defines (0..${contentTypeNames.length - 1}); the file was not made by PACSign or is corrupt`;
  }
  const name = `${contentTypeNames[contentType]} (${contentTypePacsignNames[contentType]})`;
  if (subtype === Subtype.UPDATE) {
    if (contentTypeKeys[contentType] === 'PR') {
      return `a ${name} image is signed with the PR key: it is a PR-region bitstream, loaded into a port by partial reconfiguration (reconfigureCard with the signed GBS), not written to flash`;
    }
    return undefined;
  }
  if (contentType !== ContentType.STATIC_REGION && contentType !== ContentType.BMC && contentType !== ContentType.PR) {
    const what = subtype === Subtype.CANCELLATION ? 'key cancellation' : 'root key hash';
    return `a ${what} image for ${name}: the BMC keeps root key hashes and cancelled keys only for SR, BMC and PR (intel-m10-bmc-sec-update.c); sign it for one of those`;
  }
  return undefined;
}
