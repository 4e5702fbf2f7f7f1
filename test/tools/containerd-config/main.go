// containerd-config loads a containerd config file the way containerd 2 itself does and prints, as JSON, the
// runtimes its CRI runtime plugin ("io.containerd.cri.v1.runtime") ends up with. It uses containerd's own code:
// the config loader (cmd/containerd/server/config.LoadConfig), the per-plugin config migrations that
// cmd/containerd/server.New runs for files older than the current config version, and the CRI plugins'
// registrations (defaults, Decode). Nothing is started. Test support for latticeform's runtime-class pools.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"

	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/plugins"
	_ "github.com/containerd/containerd/v2/plugins/cri"
	_ "github.com/containerd/containerd/v2/plugins/cri/images"
	_ "github.com/containerd/containerd/v2/plugins/cri/runtime"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/plugin/registry"
)

type runtimeView struct {
	RuntimeType string `json:"runtime_type"`
	RuntimePath string `json:"runtime_path,omitempty"`
}

type report struct {
	ContainerdVersion string                 `json:"containerdVersion"`
	FileVersion       int                    `json:"fileVersion"`
	DefaultRuntime    string                 `json:"defaultRuntime"`
	Runtimes          map[string]runtimeView `json:"runtimes"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: containerd-config <config.toml>")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	ctx := context.Background()
	// cmd/containerd/command/config.go platformAgnosticDefaultConfig: the loader starts from the current version.
	config := &srvconfig.Config{Version: version.ConfigVersion}
	if err := srvconfig.LoadConfig(ctx, path, config); err != nil {
		return err
	}
	fileVersion := config.Version
	// cmd/containerd/server/server.go New: migrate the file, then let each plugin migrate its own section.
	if err := config.MigrateConfig(ctx); err != nil {
		return err
	}
	loaded := registry.Graph(srvconfig.V2DisabledFilter(config.DisabledPlugins))
	for v := fileVersion; v < version.ConfigVersion; v++ {
		for _, p := range loaded {
			if p.ConfigMigration != nil {
				if err := p.ConfigMigration(ctx, v, config.Plugins); err != nil {
					return err
				}
			}
		}
	}
	id := string(plugins.CRIServicePlugin) + ".runtime"
	for _, p := range loaded {
		if p.URI() != id {
			continue
		}
		cfg, err := config.Decode(ctx, id, p.Config)
		if err != nil {
			return err
		}
		// The plugin's config type is internal to containerd; read it through its own TOML/JSON field names.
		raw, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		var view struct {
			Containerd struct {
				DefaultRuntimeName string `json:"defaultRuntimeName"`
				Runtimes           map[string]struct {
					Type string `json:"runtimeType"`
					Path string `json:"runtimePath"`
				} `json:"runtimes"`
			} `json:"containerd"`
		}
		if err := json.Unmarshal(raw, &view); err != nil {
			return err
		}
		out := report{ContainerdVersion: moduleVersion(), FileVersion: fileVersion, DefaultRuntime: view.Containerd.DefaultRuntimeName, Runtimes: map[string]runtimeView{}}
		for name, r := range view.Containerd.Runtimes {
			out.Runtimes[name] = runtimeView{RuntimeType: r.Type, RuntimePath: r.Path}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return fmt.Errorf("plugin %s is not registered", id)
}

// moduleVersion is the containerd module version this program was built with (version.Version is set by
// containerd's own Makefile through -ldflags, not by a plain go build).
func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/containerd/containerd/v2" {
				return d.Version
			}
		}
	}
	return version.Version
}
