/** /proc/self/mountinfo and /proc/self/cgroup as the three layouts show them. */
export const V1 = {
  mountinfo: [
    '25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '31 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    '32 31 0:27 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd',
    '35 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpu,cpuacct',
    '36 31 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory',
    '37 31 0:32 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,net_cls,net_prio',
    '38 31 0:33 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,cpuset,clone_children',
    '39 31 0:34 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,freezer',
    '40 31 0:35 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,devices',
    '41 31 0:36 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,hugetlb',
    '42 31 0:37 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:22 - cgroup cgroup rw,pids',
    '43 31 0:38 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:23 - cgroup cgroup rw,blkio',
    // The same memory hierarchy bound a second time: one hierarchy, not two.
    '44 30 0:31 / /mnt/memory\\040again rw,relatime shared:16 - cgroup cgroup rw,memory',
    '',
  ].join('\n'),
  procCgroup: [
    '12:blkio:/',
    '11:pids:/user.slice/user-1000.slice/session-2.scope',
    '10:hugetlb:/',
    '9:devices:/user.slice',
    '8:freezer:/',
    '7:cpuset:/',
    '6:net_cls,net_prio:/',
    '5:memory:/user.slice/user-1000.slice/session-2.scope',
    '4:cpu,cpuacct:/user.slice',
    '1:name=systemd:/user.slice/user-1000.slice/session-2.scope',
    '',
  ].join('\n'),
};

export const V2 = {
  mountinfo: [
    '24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
    '',
  ].join('\n'),
  procCgroup: '0::/user.slice/user-1000.slice/session-3.scope\n',
  v2Controllers: { '/sys/fs/cgroup': 'cpuset cpu io memory hugetlb pids rdma misc\n' },
};

export const HYBRID = {
  mountinfo: [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
    '34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
    '37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
    '38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
    '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '',
  ].join('\n'),
  procCgroup: [
    '9:name=systemd:/',
    '8:pids:/',
    '7:blkio:/',
    '6:freezer:/',
    '5:devices:/',
    '4:memory:/process_api/2cf5',
    '3:cpuset:/',
    '2:cpuacct:/',
    '1:cpu:/',
    '0::/',
    '',
  ].join('\n'),
  v2Controllers: { '/sys/fs/cgroup/unified': 'hugetlb\n' },
};
