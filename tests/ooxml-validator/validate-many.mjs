// Validate Office files with one start of the Open XML SDK validator: one JSON line per file.
// Usage: node validate-many.mjs FILE...   (format from the extension: .docx, .xlsx, .pptx)
import { readFile } from "fs/promises";
import validate, { getFileFormatFromName } from "@ooxml-tools/validate";

for (const path of process.argv.slice(2)) {
  let errors;
  try {
    errors = await validate(await readFile(path), getFileFormatFromName(path), "Microsoft365");
  } catch (e) {
    errors = [{ id: "ValidatorFailed", description: String(e), path: { xpath: "", partUri: "" } }];
  }
  console.log(JSON.stringify({ file: path, errors }));
}
process.exit(0);
