// User and group names to ids through libc getpwnam/getgrnam (glibc's NSS: /etc/passwd, LDAP,
// systemd-homed...), as the Python pwd/grp modules that opae.io init uses. Numeric ids pass
// through. Unknown names are undefined; the caller says what was wrong.
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');
// struct passwd / struct group (pwd.h, grp.h; LP64 layout).
const PasswdType = koffi.struct('vfiokit_passwd', {
  pw_name: 'char *', pw_passwd: 'char *', pw_uid: 'uint32_t', pw_gid: 'uint32_t', pw_gecos: 'char *', pw_dir: 'char *', pw_shell: 'char *',
});
const GroupType = koffi.struct('vfiokit_group', { gr_name: 'char *', gr_passwd: 'char *', gr_gid: 'uint32_t', gr_mem: 'void *' });
const getpwnam = lib.func('void *getpwnam(const char *name)');
const getgrnam = lib.func('void *getgrnam(const char *name)');

export interface UserEntry {
  uid: number;
  /** The user's primary group. */
  gid: number;
}

const isId = (s: string): boolean => /^\d+$/.test(s) && Number(s) < 0xffff_ffff;

/** A user name (or numeric uid) to its uid and primary gid; undefined when unknown. */
export function lookupUser(name: string): UserEntry | undefined {
  if (isId(name)) return { uid: Number(name), gid: -1 };
  const p = getpwnam(name) as unknown;
  if (!p) return undefined;
  const e = koffi.decode(p, PasswdType) as { pw_uid: number; pw_gid: number };
  return { uid: e.pw_uid, gid: e.pw_gid };
}

/** A group name (or numeric gid) to its gid; undefined when unknown. */
export function lookupGroup(name: string): number | undefined {
  if (isId(name)) return Number(name);
  const g = getgrnam(name) as unknown;
  if (!g) return undefined;
  return (koffi.decode(g, GroupType) as { gr_gid: number }).gr_gid;
}
