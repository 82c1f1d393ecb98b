package manifest

import (
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/ordoproject/ordo/internal/errdefs"
)

var quantityRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)|[eE]([0-9]+))?$`)

var quantityUnits = map[string]int64{
	"":   1,
	"k":  1e3,
	"M":  1e6,
	"G":  1e9,
	"T":  1e12,
	"P":  1e15,
	"E":  1e18,
	"Ki": 1 << 10,
	"Mi": 1 << 20,
	"Gi": 1 << 30,
	"Ti": 1 << 40,
	"Pi": 1 << 50,
	"Ei": 1 << 60,
}

// ParseQuantity turns a Kubernetes storage quantity ("1Gi", "500Mi", "10G",
// "1e9", "1.5Gi", "1024") into bytes. Fractions must come out as whole bytes;
// negative, milli ("500m") and overflowing quantities are rejected. path names
// the field in errors.
func ParseQuantity(path, s string) (int64, error) {
	m := quantityRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, errdefs.Invalid(path, "%q is not a quantity (examples: 1Gi, 500Mi, 10G)", s)
	}
	num, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, errdefs.Invalid(path, "%q is not a quantity", s)
	}
	mult := new(big.Rat).SetInt64(quantityUnits[m[2]])
	if m[3] != "" {
		exp, ok := new(big.Int).SetString(m[3], 10)
		if !ok || exp.Cmp(big.NewInt(18)) > 0 {
			return 0, errdefs.Invalid(path, "%q is too large", s)
		}
		mult = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), exp, nil))
	}
	v := new(big.Rat).Mul(num, mult)
	if !v.IsInt() {
		return 0, errdefs.Invalid(path, "%q is not a whole number of bytes", s)
	}
	n := v.Num()
	if !n.IsInt64() || n.Int64() > math.MaxInt64 {
		return 0, errdefs.Invalid(path, "%q is too large", s)
	}
	return n.Int64(), nil
}

// FormatQuantity writes bytes the way Kubernetes prints them: with the
// largest binary ("1Gi", "500Mi") or decimal ("10G") unit that divides it
// exactly, whichever is shorter (binary on a tie), else plain bytes.
func FormatQuantity(b int64) string {
	if b <= 0 {
		return "0"
	}
	best := itoa(b)
	for _, units := range [][]string{{"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"}, {"E", "P", "T", "G", "M", "k"}} {
		for _, u := range units {
			if f := quantityUnits[u]; b%f == 0 {
				if s := itoa(b/f) + u; len(s) < len(best) {
					best = s
				}
				break
			}
		}
	}
	return best
}

func itoa(n int64) string { return big.NewInt(n).String() }
