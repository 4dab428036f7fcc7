// SPDX-License-Identifier: GPL-2.0
/* REGISTER, mmap and ioctl argument validation. */
#include "ft.h"

static int reg_errno(int fd, uint32_t abi, uint32_t groups, uint32_t pages, uint32_t flags)
{
	struct flexsc_register r = { .abi_version = abi, .groups = groups, .pages = pages, .flags = flags };

	return ft_ioctl_errno(fd, FLEXSC_IOC_REGISTER, &r);
}

int main(void)
{
	ft_require_device("register");
	int fd = open("/dev/flexsc", O_RDWR);
	int e;
	uint32_t g = 0;
	struct flexsc_wait w = { 0 };

	/* Before REGISTER: nothing to drive. */
	e = ft_ioctl_errno(fd, FLEXSC_IOC_SERVE, &g);
	ft_check(e == EBADFD, "register.serve_before_register_EBADFD", "got %s", strerror(e));
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAIT, &w);
	ft_check(e == EBADFD, "register.wait_before_register_EBADFD", "got %s", strerror(e));
	void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ft_check(m == MAP_FAILED && errno == EBADFD, "register.mmap_before_register_EBADFD", "mmap gave %p, %s", m, strerror(errno));

	e = reg_errno(fd, FLEXSC_ABI_VERSION + 1, 1, 1, 0);
	ft_check(e == EPROTO, "register.abi_mismatch_EPROTO", "got %s", strerror(e));
	e = reg_errno(fd, 0, 1, 1, 0);
	ft_check(e == EPROTO, "register.abi_zero_EPROTO", "got %s", strerror(e));
	e = reg_errno(fd, FLEXSC_ABI_VERSION, 0, 1, 0);
	ft_check(e == EINVAL, "register.groups0_EINVAL", "got %s", strerror(e));
	e = reg_errno(fd, FLEXSC_ABI_VERSION, FLEXSC_MAX_GROUPS + 1, 1, 0);
	ft_check(e == EINVAL, "register.groups_max_plus1_EINVAL", "got %s", strerror(e));
	e = reg_errno(fd, FLEXSC_ABI_VERSION, 1, 0, 0);
	ft_check(e == EINVAL, "register.pages0_EINVAL", "got %s", strerror(e));
	e = reg_errno(fd, FLEXSC_ABI_VERSION, 1, FLEXSC_MAX_PAGES + 1, 0);
	ft_check(e == EINVAL, "register.pages_max_plus1_EINVAL", "got %s", strerror(e));
	e = reg_errno(fd, FLEXSC_ABI_VERSION, 1, 1, 1);
	ft_check(e == EINVAL, "register.flags_nonzero_EINVAL", "got %s", strerror(e));
	e = ft_ioctl_errno(fd, FLEXSC_IOC_REGISTER, (void *)8);
	ft_check(e == EFAULT, "register.bad_pointer_EFAULT", "got %s", strerror(e));
	e = ft_ioctl_errno(fd, _IO(FLEXSC_IOC_MAGIC, 99), NULL);
	ft_check(e == ENOTTY, "register.unknown_ioctl_ENOTTY", "got %s", strerror(e));

	/* A valid registration: the largest. */
	struct flexsc_register r = { .abi_version = FLEXSC_ABI_VERSION, .groups = FLEXSC_MAX_GROUPS, .pages = FLEXSC_MAX_PAGES };
	e = ft_ioctl_errno(fd, FLEXSC_IOC_REGISTER, &r);
	ft_check(e == 0 && r.mapping_size == FLEXSC_MAPPING_SIZE(FLEXSC_MAX_GROUPS, FLEXSC_MAX_PAGES),
		 "register.max_ok_mapping_size", "errno %s, mapping_size %llu want %llu", strerror(e),
		 (unsigned long long)r.mapping_size, (unsigned long long)FLEXSC_MAPPING_SIZE(FLEXSC_MAX_GROUPS, FLEXSC_MAX_PAGES));
	e = reg_errno(fd, FLEXSC_ABI_VERSION, 1, 1, 0);
	ft_check(e == EBUSY, "register.second_EBUSY", "got %s", strerror(e));

	size_t sz = r.mapping_size;
	m = mmap(NULL, sz - 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ft_check(m == MAP_FAILED && errno == EINVAL, "mmap.short_EINVAL", "got %p %s", m, strerror(errno));
	m = mmap(NULL, sz + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ft_check(m == MAP_FAILED && errno == EINVAL, "mmap.long_EINVAL", "got %p %s", m, strerror(errno));
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	ft_check(m == MAP_FAILED && errno == EINVAL, "mmap.offset_EINVAL", "got %p %s", m, strerror(errno));
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ft_check(m == MAP_FAILED && errno == EINVAL, "mmap.private_EINVAL", "got %p %s", m, strerror(errno));
	m = mmap(NULL, sz, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	ft_check(m == MAP_FAILED, "mmap.exec_refused", "PROT_EXEC mapping was allowed");

	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ft_check(m != MAP_FAILED, "mmap.exact_ok", "%s", strerror(errno));
	if (m != MAP_FAILED) {
		struct flexsc_ctrl *c = m;
		int zero = 1;
		ft_check(c->magic == FLEXSC_MAGIC && c->abi_version == FLEXSC_ABI_VERSION &&
			 c->groups == FLEXSC_MAX_GROUPS && c->pages == FLEXSC_MAX_PAGES &&
			 c->entries == FLEXSC_MAX_PAGES * 64, "mmap.ctrl_header",
			 "magic %#x abi %u groups %u pages %u entries %u", c->magic, c->abi_version,
			 c->groups, c->pages, c->entries);
		int flags_ok = 1;
		for (unsigned i = 0; i < c->groups; i++)
			if (c->group[i].flags != FLEXSC_GROUP_NEED_WAKEUP || c->group[i].done_seq != 0)
				flags_ok = 0;
		ft_check(flags_ok, "mmap.groups_start_need_wakeup", "a group did not start with flags=NEED_WAKEUP, done_seq=0");
		unsigned char *p = (unsigned char *)m + FLEXSC_CTRL_SIZE(c->groups);
		for (size_t i = 0; i < sz - FLEXSC_CTRL_SIZE(c->groups); i++)
			if (p[i]) { zero = 0; break; }
		ft_check(zero, "mmap.entries_zeroed", "entry pages are not zero");
		/* A second mapping of the same pages by the owner is the same memory. */
		void *m2 = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m2 != MAP_FAILED) {
			((struct flexsc_ctrl *)m)->pad[0] = 0x5a;
			ft_check(((struct flexsc_ctrl *)m2)->pad[0] == 0x5a, "mmap.two_views_share", "second view differs");
			((struct flexsc_ctrl *)m)->pad[0] = 0;
			munmap(m2, sz);
		} else {
			ft_fail("mmap.two_views_share", "second mmap: %s", strerror(errno));
		}
		munmap(m, sz);
	}

	g = FLEXSC_MAX_GROUPS;
	e = ft_ioctl_errno(fd, FLEXSC_IOC_SERVE, &g);
	ft_check(e == EINVAL, "ioctl.serve_bad_group_EINVAL", "got %s", strerror(e));
	g = 0xffffffffu;
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAKE, &g);
	ft_check(e == EINVAL, "ioctl.wake_bad_group_EINVAL", "got %s", strerror(e));
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAKE, NULL);
	ft_check(e == EFAULT, "ioctl.wake_null_EFAULT", "got %s", strerror(e));
	w = (struct flexsc_wait){ .group = FLEXSC_MAX_GROUPS };
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAIT, &w);
	ft_check(e == EINVAL, "ioctl.wait_bad_group_EINVAL", "got %s", strerror(e));
	w = (struct flexsc_wait){ .group = 0, .flags = 2 };
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAIT, &w);
	ft_check(e == EINVAL, "ioctl.wait_bad_flags_EINVAL", "got %s", strerror(e));
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAIT, (void *)-4096L);
	ft_check(e == EFAULT, "ioctl.wait_kernel_pointer_EFAULT", "got %s", strerror(e));
	g = 1;
	e = ft_ioctl_errno(fd, FLEXSC_IOC_WAKE, &g);
	ft_check(e == 0, "ioctl.wake_idle_group_ok", "got %s", strerror(e));
	close(fd);

	/* Several groups: each group's pages are its own (WAIT runs group 3 only). */
	struct ft_reg R;
	if ((e = ft_open(&R, 4, 2)) == 0) {
		R.batch = 1;
		ft_submit(&R, 2, 70, SYS_getpid, 0, 0, 0, 0, 0, 0);
		long ret = ft_call(&R, 3, 127, SYS_getpid, 0, 0, 0, 0, 0, 0);
		ft_check(ret == getpid() && ft_entry(&R, 2, 70)->status == FLEXSC_SUBMITTED,
			 "layout.groups_independent", "group 3 ret %ld; group 2 entry status %u",
			 ret, ft_entry(&R, 2, 70)->status);
		ret = ft_reap(&R, 2, 70, 10000);
		ft_check(ret == getpid(), "layout.group2_entry70", "ret %ld", ret);
		ft_check(ft_group(&R, 3)->stat_executed == 1 && ft_group(&R, 2)->stat_executed == 1,
			 "layout.stat_executed_per_group", "group2 %llu group3 %llu",
			 (unsigned long long)ft_group(&R, 2)->stat_executed,
			 (unsigned long long)ft_group(&R, 3)->stat_executed);
		ft_close(&R);
	} else {
		ft_fail("layout.groups_independent", "register 4x2: %s", strerror(e));
	}
	return ft_exit();
}
