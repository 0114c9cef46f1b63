//! `service add|list|remove` and `import`: a hub's services from the
//! command line, through the same import rules as a spreadsheet.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use signpost_node::cli_service::ServiceFields;
use signpost_node::config::LogFormat;
use signpost_node::import::{self, Format};

use super::{open_hub, setup_logs};

/// `service`'s commands: one service at a time.
#[derive(Subcommand)]
pub enum ServiceAction {
    /// Add a service; it is published straight away.
    Add {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        #[command(flatten)]
        fields: Box<ServiceFields>,
    },
    /// List the hub's services.
    List {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a service by its id (see `service list`).
    Remove {
        #[arg(long, env = "SIGNPOST_DIR")]
        dir: PathBuf,
        /// The service's id.
        id: String,
    },
}

/// Adds, lists or removes a service; a change is published straight away.
pub fn run(action: ServiceAction) -> Result<()> {
    setup_logs(LogFormat::Text, "warn");
    match action {
        ServiceAction::Add { dir, fields } => {
            let mut hub = open_hub(&dir)?;
            let (service, published) = hub.add_new_service(fields.to_service()?)?;
            println!(
                "Added service {}; published listing seq {}.",
                service.id, published.seq
            );
            Ok(())
        }
        ServiceAction::List { dir, json } => {
            let hub = open_hub(&dir)?;
            let services = hub.services()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&services)?);
            } else if services.is_empty() {
                println!("No services yet. Add one with: signpost-node service add --dir {} --name \"...\"", dir.display());
            } else {
                println!("{:<36}  NAME", "ID");
                for s in services {
                    println!("{:<36}  {}", s.id, s.name);
                }
            }
            Ok(())
        }
        ServiceAction::Remove { dir, id } => {
            let mut hub = open_hub(&dir)?;
            let published = hub.remove_service(&id)?;
            println!(
                "Removed service {id}; published listing seq {}.",
                published.seq
            );
            Ok(())
        }
    }
}

/// `import`'s flags.
#[derive(Args)]
pub struct ImportArgs {
    /// The file to import (.csv, .xlsx, .ods or .json).
    file: PathBuf,
    /// The hub's folder.
    #[arg(long, env = "SIGNPOST_DIR")]
    dir: PathBuf,
    /// csv, xlsx, ods or hsds (default: from the file's extension).
    #[arg(long)]
    format: Option<String>,
    /// Which sheet of a workbook to read (default: the first with a
    /// header row naming a "name" column).
    #[arg(long)]
    sheet: Option<String>,
    /// Also remove services that are not in the file.
    #[arg(long)]
    replace: bool,
    /// Only show what would change.
    #[arg(long)]
    dry_run: bool,
}

/// Reads the file, prints what would change, and (unless `--dry-run`)
/// applies it all or nothing.
pub fn import(args: ImportArgs) -> Result<()> {
    let ImportArgs {
        file,
        dir,
        format,
        sheet,
        replace,
        dry_run,
    } = args;
    setup_logs(LogFormat::Text, "warn");
    let format = match format {
        Some(word) => Format::parse(&word)?,
        None => Format::from_file_name(&file.to_string_lossy()).with_context(|| {
            format!(
                "cannot tell the format of {} from its name; add --format csv, xlsx, ods or hsds",
                file.display()
            )
        })?,
    };
    let size = std::fs::metadata(&file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    if size > import::MAX_IMPORT_BYTES as u64 {
        bail!(
            "{} is {size} bytes, more than the import limit of {} bytes",
            file.display(),
            import::MAX_IMPORT_BYTES
        );
    }
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let mut hub = open_hub(&dir)?;
    let file = import::Upload {
        format,
        bytes: &bytes,
        sheet: sheet.as_deref(),
    };
    let plan = import::preview(&hub, file, import::Columns::Guessed, replace)?.plan;
    for note in &plan.notes {
        println!(
            "  note    line {}, {}: {}",
            note.line, note.column, note.message
        );
    }
    for s in &plan.added {
        println!("  add     {}", s.name);
    }
    for u in &plan.updated {
        println!("  update  {}", u.after.name);
    }
    for id in &plan.removed {
        println!("  remove  {id}");
    }
    println!(
        "{} to add, {} to update, {} unchanged, {} to remove.",
        plan.added.len(),
        plan.updated.len(),
        plan.unchanged.len(),
        plan.removed.len()
    );
    if dry_run {
        println!("Dry run: nothing was changed.");
    } else {
        match import::apply(&mut hub, &plan, None)? {
            Some(published) => println!("Imported; published listing seq {}.", published.seq),
            None => println!("Nothing to change."),
        }
    }
    Ok(())
}
