// `vfiokit info DEVICE temp|power|bmc|security|errors`: fpgainfo's verbs from the card's own
// registers (dfl-fme-main.c thermal/power, intel-m10-bmc-hwmon.c sensors, intel-m10-bmc-sec-update.c
// security), as text tables and as JSON; bad sections and option mixes are usage errors.
import { describe, expect, it } from 'vitest';
import { cliSandbox } from './sandbox.js';

const cli = cliSandbox('info-sections');

describe('vfiokit info DEVICE SECTION', () => {
  it('temp: FME thermal readings and alarms, then the BMC temperature sensors; --json carries the hwmon attributes', () => {
    const text = cli.run(['info', 'sim:n3000?fpgaTemp=95', 'temp'], { timeoutMs: 60_000 });
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('//****** TEMP ******//');
    expect(text.stdout).toMatch(/FPGA Temperature \(temp1_input\)\s+95\.00\s+Celsius/);
    expect(text.stdout).toMatch(/Threshold 1 \(temp1_max\)\s+90\.00\s+Celsius\s+tripped, policy AP2/);
    // Threshold 1 reached with policy 0: the port throttles to AP2 and latches its AP2 event (dfl.h PORT_STS_*).
    expect(text.stdout).toMatch(/Port 0 power state \(power_state\)\s+2\s+AP2 \(90% throttle\); ap1_event 0, ap2_event 1/);
    // The BMC's FPGA die sensor measures the same die as the FME thermal feature.
    expect(text.stdout).toMatch(/\( 2\)\s+FPGA Die Temperature\s+95\.00\s+Celsius\s+max 90\.00, crit 100\.00/);
    const json = JSON.parse(cli.run(['info', 'sim:n3000?fpgaTemp=95', 'temp', '--json'], { timeoutMs: 60_000 }).stdout);
    expect(json.thermal.hwmon).toMatchObject({ temp1_input: 95000, temp1_max_alarm: 1, temp1_crit_alarm: 0 });
    expect(json.ports).toEqual([{ port: 0, powerState: 2, ap1Event: false, ap2Event: true }]);
    expect(json.bmcSensors).toHaveLength(8);
  }, 120_000);

  it('power, bmc and security sections; errors is vfiokit errors', () => {
    const power = JSON.parse(cli.run(['info', 'sim:d5005?fpgaPower=80', 'power', '--json'], { timeoutMs: 60_000 }).stdout);
    expect(power.power).toMatchObject({ consumedW: 80, maxAlarm: true, critAlarm: false, fpgaLimitW: 60 });
    expect(power.bmcSensors.map((s: { type: string }) => s.type)).not.toContain('temp');
    const bmc = cli.run(['info', 'sim:n3000', 'bmc'], { timeoutMs: 60_000 });
    expect(bmc.stdout).toMatch(/\(20\)\s+Board Power\s+61\.00\s+Watts/);
    const security = cli.run(['info', 'sim:n3000', 'security'], { timeoutMs: 60_000 });
    expect(security.stdout).toMatch(/BMC root entry hash\s+hash not programmed/);
    expect(security.stdout).toMatch(/User flash update counter\s+0/);
    const errors = cli.run(['info', 'sim:n3000', 'errors', '--json'], { timeoutMs: 60_000 });
    expect(JSON.parse(errors.stdout)).toMatchObject({ fme: { fmeErrors: '0x0' }, ports: [{ port: 0 }] });
  }, 240_000);

  it('refuses an unknown section and property options with a section', () => {
    const bad = cli.run(['info', 'sim:n3000', 'tmep']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"tmep" is not a section; known: temp, power, bmc, security, errors/);
    const mixed = cli.run(['info', 'sim:n3000', 'temp', '--mask', '2']);
    expect(mixed.status).toBe(2);
    expect(mixed.stderr).toMatch(/--mask and --phy belong to the property view/);
  }, 120_000);
});

describe('vfiokit events DEVICE', () => {
  it('prints the alarms a hot card has tripped as JSON lines, and fails when --count events do not come within --timeout', () => {
    const hot = cli.run(['events', 'sim:n3000?fpgaTemp=101', '--count', '2', '--timeout', '30', '--poll-ms', '20', '--json'], { timeoutMs: 60_000 });
    expect(hot.stderr).toBe('');
    expect(hot.status).toBe(0);
    expect(hot.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { type: 'power-thermal', alarm: 'temp-max', tripped: true, value: 101, threshold: 90, via: 'poll' },
      { type: 'power-thermal', alarm: 'temp-crit', tripped: true, value: 101, threshold: 100, via: 'poll' },
    ]);
    const quiet = cli.run(['events', 'sim:n3000', '--count', '1', '--timeout', '0.5'], { timeoutMs: 60_000 });
    expect(quiet.status).toBe(1);
    expect(quiet.stdout).toMatch(/watching fme \(interrupt\), port0 \(interrupt\), thermal \(poll\), power \(poll\)/);
    expect(quiet.stderr).toBe('vfiokit events: 0 of 1 events came within 0.5 s\n');
    expect(cli.run(['events', 'sim:n3000', '--count', '1.5']).status).toBe(2);
  }, 180_000);
});
