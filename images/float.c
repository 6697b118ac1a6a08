//go:build ignore

/* float: SSE and x87 state at program start and in use.  printf of
 * doubles and long doubles, a little libm, rounding modes and exception
 * flags.  Transcendental results are printed with 12 significant digits
 * so that legitimately different ifunc variants (FMA or not) still agree. */
#define _GNU_SOURCE
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <xmmintrin.h>

static volatile double vzero = 0.0, vone = 1.0, vthree = 3.0;

int main(void)
{
	/* Initial control state: MXCSR 0x1f80 (all exceptions masked, round to
	 * nearest), x87 control word 0x037f. */
	unsigned mxcsr = _mm_getcsr();
	unsigned short fcw;
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	printf("mxcsr_control=0x%04x\n", mxcsr & 0xffc0);
	printf("x87_cw=0x%04x\n", fcw);

	double a = 1.0 / 3.0, b = 2.0 / 3.0;
	printf("third=%.17g\n", a);
	printf("sum=%.17g\n", a + b);
	printf("hex=%a\n", a);
	printf("pi=%.15f\n", M_PI);
	printf("big=%e small=%e\n", 6.02214076e23, 1.602176634e-19);
	printf("dbl_max=%g dbl_min=%g eps=%g\n", DBL_MAX, DBL_MIN, DBL_EPSILON);
	printf("float=%.9g\n", (double)(1.0f / 3.0f));
	printf("g=%g %g %g\n", 100000.0, 1000000.0, 0.0001);

	long double la = 1.0L / 3.0L;
	printf("ld_third=%.20Lf\n", la);
	printf("ld_hex=%La\n", la);
	printf("ld_mant_dig=%d\n", LDBL_MANT_DIG);
	long double f = 1;
	for (int i = 1; i <= 25; i++)
		f *= i;
	printf("ld_25!=%.0Lf\n", f);

	printf("sqrt2=%a\n", sqrt(2.0)); /* correctly rounded by IEEE */
	printf("sqrtl2=%La\n", sqrtl(2.0L));
	printf("sin1=%.12g\n", sin(1.0));
	printf("cos1=%.12g\n", cos(1.0));
	printf("exp1=%.12g\n", exp(1.0));
	printf("log10=%.12g\n", log(10.0));
	printf("pow=%.12g\n", pow(2.0, 0.5));
	printf("atan2=%.12g\n", atan2(1.0, 1.0));
	printf("sinl=%.12Lg\n", sinl(1.0L));

	printf("inf=%f -inf=%f nan=%f\n", vone / vzero, -vone / vzero, vzero / vzero);
	printf("isnan=%d isinf=%d\n", isnan(vzero / vzero), isinf(vone / vzero));

	feclearexcept(FE_ALL_EXCEPT);
	volatile double r = vone / vzero;
	(void)r;
	printf("divbyzero_flag=%d\n", fetestexcept(FE_DIVBYZERO) != 0);
	feclearexcept(FE_ALL_EXCEPT);
	r = vone / vthree;
	printf("inexact_flag=%d\n", fetestexcept(FE_INEXACT) != 0);
	printf("divbyzero_cleared=%d\n", fetestexcept(FE_DIVBYZERO) == 0);

	double x = 2.5;
	volatile double vx = x;
	printf("rint_nearest=%g\n", rint(vx));
	fesetround(FE_UPWARD);
	printf("rint_upward=%g\n", rint(vx));
	printf("div_upward=%.17g\n", vone / vthree);
	fesetround(FE_DOWNWARD);
	printf("rint_downward=%g\n", rint(-vx));
	fesetround(FE_TOWARDZERO);
	printf("rint_towardzero=%g\n", rint(-vx));
	fesetround(FE_TONEAREST);
	printf("round_restored=%d\n", fegetround() == FE_TONEAREST);

	/* Integer <-> float conversions and a SIMD-friendly loop. */
	double acc = 0;
	for (int i = 1; i <= 1000; i++)
		acc += 1.0 / ((double)i * i);
	printf("basel_1000=%.17g\n", acc);
	float vf[64];
	for (int i = 0; i < 64; i++)
		vf[i] = (float)i * 0.5f;
	float s = 0;
	for (int i = 0; i < 64; i++)
		s += vf[i] * vf[i];
	printf("sumsq=%.9g\n", (double)s);
	printf("cvt=%lld %d\n", (long long)-3.99, (int)1e9);
	return 0;
}
