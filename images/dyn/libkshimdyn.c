//go:build ignore

/* libkshimdyn: a shared library the dynamically linked test programs
 * (the images/dyn programs) link against and find through LD_LIBRARY_PATH. */
int kshimdyn_square(int x)
{
	return x * x;
}

const char *kshimdyn_name(void)
{
	return "libkshimdyn";
}
