/* tls_x86_64.S - __tls_get_addr as kdl-loaded code sees it.  Compilers
 * have emitted this call with the stack misaligned, so realign it before
 * entering C (glibc's own x86-64 __tls_get_addr does the same). */
	.text
	.globl	kdl_tls_get_addr_entry
	.hidden	kdl_tls_get_addr_entry
	.type	kdl_tls_get_addr_entry, @function
kdl_tls_get_addr_entry:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	andq	$-16, %rsp
	call	kdl_tls_get_addr
	movq	%rbp, %rsp
	popq	%rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size	kdl_tls_get_addr_entry, .-kdl_tls_get_addr_entry

/*
 * kdl_tlsdesc_dynamic - the resolver of an R_X86_64_TLSDESC descriptor
 * { this function, struct kdl_tls_index * } for a module of kdl's.
 * TLSDESC calling convention: %rax holds the descriptor's address on
 * entry and the variable's offset from the thread pointer on return;
 * every other register, vector state included, is preserved.
 * Fast path: the thread already has the module's block.  Slow path: save
 * the general registers and, with XSAVE, all extended state, then ask C.
 */
	.globl	kdl_tlsdesc_dynamic
	.hidden	kdl_tlsdesc_dynamic
	.type	kdl_tlsdesc_dynamic, @function
kdl_tlsdesc_dynamic:
	.cfi_startproc
	movq	8(%rax), %rax			/* struct kdl_tls_index * */
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	movq	kdl_tls_dtv@gottpoff(%rip), %rdi
	movq	%fs:(%rdi), %rdi		/* this thread's block vector */
	testq	%rdi, %rdi
	jz	1f
	movq	(%rax), %rsi
	subq	$0x40000000, %rsi		/* KDL_TLS_MODID_BASE */
	cmpq	(%rdi), %rsi			/* dtv->n */
	jae	1f
	movq	8(%rdi), %rdi			/* dtv->blocks */
	movq	(%rdi,%rsi,8), %rdi
	testq	%rdi, %rdi
	jz	1f
	addq	8(%rax), %rdi			/* + offset */
	subq	%fs:0, %rdi			/* - thread pointer */
	movq	%rdi, %rax
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	ret
1:
	.cfi_adjust_cfa_offset 16
	pushq	%rdx
	.cfi_adjust_cfa_offset 8
	pushq	%rcx
	.cfi_adjust_cfa_offset 8
	pushq	%r8
	.cfi_adjust_cfa_offset 8
	pushq	%r9
	.cfi_adjust_cfa_offset 8
	pushq	%r10
	.cfi_adjust_cfa_offset 8
	pushq	%r11
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	movq	%rsp, %rbp
	.cfi_def_cfa_register %rbp
	movq	%rax, %rbx			/* callee-saved: the index */
	movq	kdl_xsave_size(%rip), %rcx
	subq	%rcx, %rsp
	andq	$-64, %rsp
	/* XSAVE needs a zeroed header (bytes 512..575) in a fresh area. */
	xorl	%eax, %eax
	movq	%rax, 512(%rsp)
	movq	%rax, 520(%rsp)
	movq	%rax, 528(%rsp)
	movq	%rax, 536(%rsp)
	movq	%rax, 544(%rsp)
	movq	%rax, 552(%rsp)
	movq	%rax, 560(%rsp)
	movq	%rax, 568(%rsp)
	cmpb	$0, kdl_have_xsave(%rip)
	je	2f
	movl	$-1, %eax
	movl	$-1, %edx
	xsave64	(%rsp)
	movq	%rbx, %rdi
	call	kdl_tlsdesc_slow		/* returns the offset from %fs:0 */
	movq	%rax, %rbx
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor64 (%rsp)
	jmp	3f
2:	/* No OS-enabled XSAVE: there is only x87/SSE state to keep. */
	fxsave64 (%rsp)
	movq	%rbx, %rdi
	call	kdl_tlsdesc_slow
	movq	%rax, %rbx
	fxrstor64 (%rsp)
3:
	movq	%rbx, %rax
	movq	%rbp, %rsp
	.cfi_def_cfa_register %rsp
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%r11
	.cfi_adjust_cfa_offset -8
	popq	%r10
	.cfi_adjust_cfa_offset -8
	popq	%r9
	.cfi_adjust_cfa_offset -8
	popq	%r8
	.cfi_adjust_cfa_offset -8
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	kdl_tlsdesc_dynamic, .-kdl_tlsdesc_dynamic


/*
 * kdl_tlsdesc_static - the resolver of a descriptor { this function,
 * offset } for a module with a static block: the offset from the thread
 * pointer is the same in every thread, so it is the argument itself.
 */
	.globl	kdl_tlsdesc_static
	.hidden	kdl_tlsdesc_static
	.type	kdl_tlsdesc_static, @function
kdl_tlsdesc_static:
	.cfi_startproc
	movq	8(%rax), %rax
	ret
	.cfi_endproc
	.size	kdl_tlsdesc_static, .-kdl_tlsdesc_static

	.section .note.GNU-stack,"",@progbits
