// Package warm imports the standard library packages that challenges use most, so
// that the image's build cache holds them compiled (and vetted) for the tests.
package warm

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"container/list"
	"context"
	"crypto/md5"
	crand "crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"iter"
	"log"
	"log/slog"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	_ = bufio.NewReader
	_ = bytes.NewBuffer
	_ = cmp.Compare[int]
	_ = heap.Init
	_ = list.New
	_ = context.Background
	_ = md5.Sum
	_ = crand.Read
	_ = sha256.Sum256
	_ = sql.Open
	_ = base64.StdEncoding
	_ = csv.NewReader
	_ = hex.EncodeToString
	_ = json.Marshal
	_ = errors.New
	_ = flag.Parse
	_ = fmt.Sprintf
	_ = fnv.New32a
	_ = io.ReadAll
	_ = iter.Pull[int]
	_ = log.Printf
	_ = slog.Info
	_ = maps.Keys[map[int]int]
	_ = math.Abs
	_ = big.NewInt
	_ = rand.IntN
	_ = http.ListenAndServe
	_ = httptest.NewServer
	_ = url.Parse
	_ = os.Exit
	_ = signal.Notify
	_ = filepath.Join
	_ = reflect.DeepEqual
	_ = regexp.MustCompile
	_ = slices.Sort[[]int]
	_ = sort.Ints
	_ = strconv.Itoa
	_ = strings.Fields
	_ = sync.NewCond
	_ = atomic.AddInt64
	_ = template.New
	_ = time.Now
	_ = unicode.IsLetter
	_ = utf8.RuneLen
)
